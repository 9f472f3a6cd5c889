import { volumesPastEnd } from "../fs/partitions/pastEnd";
import { closeChain } from "../vhdx/chain";
import { planResize, resizeImage, type ResizePlan } from "../vhdx/resize";
import { VhdxWriter } from "../vhdx/write";
import { openWithParents } from "../node/resolveParent";
import { flagString, oneImage, ParsedArgs, parseSize, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize, hexOffset } from "./format";

/** One line of what a resize changes (also what --dry-run prints). */
export function describePlan(p: ResizePlan): string {
  const bat = p.bat.moved
    ? `BAT region moved to ${hexOffset(p.bat.to.offset)} (${formatSize(p.bat.to.length)}), region table rewritten`
    : p.bat.to.length !== p.bat.from.length
      ? `BAT region grown in place to ${formatSize(p.bat.to.length)}, region table rewritten`
      : "BAT region unchanged";
  const parts = [
    `${formatSize(p.from)} -> ${formatSize(p.to)}`,
    `${p.batEntriesChanged} BAT entries change`,
    bat,
    `${p.logSectors} log sectors`,
    `${formatSize(p.directBytes)} written outside the log`,
  ];
  if (p.blocksAllocated) parts.push(`${p.blocksAllocated} blocks allocated`);
  if (p.blocksDropped) parts.push(`${p.blocksDropped} blocks past the new end dropped`);
  return parts.join("; ");
}

/**
 * `vhdx resize <image> --size S [--force] [--dry-run]`: a new VirtualDiskSize, all or nothing
 * through the log (resizeImage). Partitions and file systems inside are not changed; a shrink that
 * cuts one is warned about on stderr.
 */
export async function resizeCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "resize");
  const sizeText = flagString(a, "size");
  if (!sizeText) throw new UsageError("--size is required");
  const size = parseSize(sizeText, "--size");
  const dryRun = a.flags.has("dry-run");
  const { image, chain } = await openWithParents(path, { readOnly: dryRun, lock: !dryRun });
  try {
    const plan = await planResize(image, size);
    if (size < image.virtualSize) {
      const device = { size: image.virtualSize, read: (o: number, l: number) => image.read(o, l) };
      for (const v of await volumesPastEnd(device, image.params.logicalSectorSize, size))
        process.stderr.write(
          `vhdx: warning: ${v.what} ends at ${hexOffset(v.end)}, past the new end ${hexOffset(size)}; resize changes no partition or file system\n`,
        );
    }
    if (dryRun) {
      io.out(`would resize: ${describePlan(plan)}\n`);
      return 0;
    }
    if (plan.from === plan.to) {
      io.out(`the virtual disk is already ${formatSize(size)}: nothing changed\n`);
      return 0;
    }
    const w = new VhdxWriter(image);
    w.notice = (m) => process.stderr.write(`vhdx: ${path}: ${m}\n`);
    try {
      const done = await resizeImage(w, size, { force: a.flags.has("force") });
      io.out(`resized: ${describePlan(done)}\n`);
    } finally {
      await w.finish();
    }
    return 0;
  } finally {
    await closeChain(chain);
  }
}
