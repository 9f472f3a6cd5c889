/**
 * `vhdx convert child.vhd child.vhdx --keep-chain | --parent base.vhdx`: a differencing VHD kept
 * as a differencing VHDX, as Hyper-V's Convert-VHD does.
 *
 * --keep-chain converts every link: the base VHD becomes a dynamic (or --type fixed) VHDX, and
 * each differencing VHD a differencing VHDX holding only its own sectors, over the VHDX made of
 * its parent. The child takes the output name; each parent is named as its VHD with ".vhdx", in
 * the output's folder. --parent converts only the child, over an existing VHDX whose virtual
 * bytes must be the VHD parent's (every byte is compared first: a child over other bytes would
 * read as a different disk). No file is replaced; every output is written under a temporary name
 * and named only once all of them are whole.
 */
import { existsSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { createNewFile, type NewFile } from "../node/newFile";
import { parentLocatorPaths } from "../node/resolveParent";
import { closeVhdChain } from "../vhd/chain";
import type { VhdImage } from "../vhd/image";
import { convertVhdLinkToVhdx, vhdxBlockSizeFor } from "../vhd/toVhdxChild";
import { equalBytes } from "../vhdx/bytes";
import { closeChain } from "../vhdx/chain";
import { convertToVhdx, PIECE } from "../vhdx/convert";
import { forkInfoOf } from "../vhdx/create";
import { hex, VhdxError } from "../vhdx/errors";
import { openImage, type VirtualDisk } from "../vhdx/image";
import { flagString, ParsedArgs, parseSize, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize } from "./format";

export async function convertVhdChainCommand(a: ParsedArgs, io: Io, inPath: string, outPath: string): Promise<number> {
  const keep = a.flags.has("keep-chain");
  const parentVhdx = flagString(a, "parent");
  if (keep && parentVhdx) throw new UsageError("--keep-chain and --parent exclude each other");
  const format = flagString(a, "format") ?? "vhdx";
  if (format !== "vhdx" || !/\.vhdx$/i.test(outPath))
    throw new UsageError(`--${keep ? "keep-chain" : "parent"} writes a differencing VHDX: name the output .vhdx`);
  if (a.flags.has("subformat")) throw new UsageError("--subformat applies to VHD output only");
  const type = flagString(a, "type") ?? "dynamic";
  if (type !== "dynamic" && type !== "fixed") throw new UsageError("--type must be dynamic or fixed");
  if (parentVhdx && a.flags.has("type"))
    throw new UsageError("--type applies to the base of --keep-chain; a differencing VHDX has no type to choose");
  const blockSize = a.flags.has("block-size") ? parseSize(flagString(a, "block-size")!, "--block-size") : undefined;
  const sync = a.flags.has("sync");

  const { openVhdWithParents } = await import("../node/resolveVhdParent");
  const opened = await openVhdWithParents(inPath, { lock: true });
  try {
    if (opened.image.diskType !== "differencing")
      throw new UsageError(
        `${inPath} is a ${opened.image.diskType} VHD, not a differencing one: convert it without --${keep ? "keep-chain" : "parent"}`,
      );
    if (keep) return await keepChain(opened.chain, opened.locations, outPath, { type, blockSize, sync }, io);
    return await overParent(opened.chain, inPath, outPath, resolve(parentVhdx!), { blockSize, sync }, io);
  } finally {
    await closeVhdChain(opened.chain);
  }
}

interface Planned {
  link: VhdImage;
  from: string;
  path: string;
  output?: NewFile;
}

/** The outputs of every link, base first; refused before anything is written when a name is taken. */
function planOutputs(chain: readonly VhdImage[], locations: readonly string[], outPath: string): Planned[] {
  const plan: Planned[] = chain.map((link, i) => ({
    link,
    from: locations[i],
    path:
      i === 0
        ? resolve(outPath)
        : join(dirname(resolve(outPath)), basename(locations[i]).replace(/\.vhd$/i, "") + ".vhdx"),
  }));
  const seen = new Set<string>();
  for (const p of plan) {
    if (seen.has(p.path))
      throw new UsageError(
        `two links of the chain would both be written to ${p.path}; convert them one at a time with --parent`,
      );
    seen.add(p.path);
    if (existsSync(p.path)) throw new UsageError(`${p.path} already exists; convert never overwrites a file`);
  }
  return plan.reverse();
}

async function keepChain(
  chain: readonly VhdImage[],
  locations: readonly string[],
  outPath: string,
  o: { type: "dynamic" | "fixed"; blockSize?: number; sync: boolean },
  io: Io,
): Promise<number> {
  const plan = planOutputs(chain, locations, outPath);
  const said: string[] = [];
  const committed: string[] = [];
  try {
    for (let i = 0; i < plan.length; i++) {
      const p = plan[i];
      p.output = await createNewFile(p.path);
      if (i === 0) {
        const r = await convertToVhdx(p.link, p.output.file, {
          type: o.type,
          blockSize: o.blockSize ?? vhdxBlockSizeFor(p.link.blockSize || 2 * 1024 * 1024),
          sync: o.sync,
        });
        said.push(
          `${p.from} → ${o.type} VHDX ${p.path}: ${r.allocatedBlocks} of ${r.totalBlocks} blocks, file ${formatSize(r.fileSize)}`,
        );
      } else {
        const below = plan[i - 1];
        // The parent just written, read back: its DataWriteGuid, id and sizes go into the child.
        const parentImg = await openImage(below.output!.file);
        const parent = await forkInfoOf(parentImg, parentLocatorPaths(p.path, below.path));
        const r = await convertVhdLinkToVhdx(p.link, p.output.file, { parent, blockSize: o.blockSize, sync: o.sync });
        said.push(`${p.from} → differencing VHDX ${p.path}: ${linkSummary(r)}`);
      }
    }
    // Every file whole: named, base first, so no child ever appears without its parent.
    for (const p of plan) {
      await p.output!.commit();
      committed.push(p.path);
    }
  } catch (e) {
    for (const p of plan) await p.output?.abandon();
    // Outputs named by this command before a later one failed: the chain is all or nothing.
    for (const path of committed) await unlink(path).catch(() => undefined);
    throw e;
  }
  io.out(said.join("\n") + "\n");
  return 0;
}

async function overParent(
  chain: readonly VhdImage[],
  inPath: string,
  outPath: string,
  parentPath: string,
  o: { blockSize?: number; sync: boolean },
  io: Io,
): Promise<number> {
  if (existsSync(outPath)) throw new UsageError(`${outPath} already exists; convert never overwrites a file`);
  const { openWithParents } = await import("../node/resolveParent");
  const p = await openWithParents(parentPath, { lock: true });
  try {
    const vhdParent = chain[1];
    await requireSameBytes(p.image, vhdParent, parentPath);
    const output = await createNewFile(outPath);
    try {
      const parent = await forkInfoOf(p.image, parentLocatorPaths(resolve(outPath), parentPath));
      const r = await convertVhdLinkToVhdx(chain[0], output.file, { parent, blockSize: o.blockSize, sync: o.sync });
      await output.commit();
      io.out(`converted ${inPath} to differencing VHDX ${outPath} over ${parentPath}: ${linkSummary(r)}\n`);
    } finally {
      await output.abandon();
    }
  } finally {
    await closeChain(p.chain);
  }
  return 0;
}

function linkSummary(r: Awaited<ReturnType<typeof convertVhdLinkToVhdx>>): string {
  return `${r.fullBlocks} full and ${r.partialBlocks} partial of ${r.totalBlocks} blocks, ${r.sectorBitmapBlocks} sector bitmap block${r.sectorBitmapBlocks === 1 ? "" : "s"}, file ${formatSize(r.fileSize)}`;
}

/** Refuses a VHDX parent whose virtual disk is not byte for byte the VHD parent's (read through its chain). */
async function requireSameBytes(vhdx: VirtualDisk, vhd: VirtualDisk, vhdxPath: string): Promise<void> {
  if (vhdx.virtualSize !== vhd.virtualSize)
    throw new VhdxError(
      "PARENT_MISMATCH",
      `${vhdxPath} has a virtual size of ${vhdx.virtualSize} bytes; the VHD parent has ${vhd.virtualSize}`,
      "virtual disk",
    );
  const size = vhd.virtualSize;
  for (let at = 0; at < size; at += PIECE) {
    const n = Math.min(PIECE, size - at);
    const [x, y] = await Promise.all([vhdx.read(at, n), vhd.read(at, n)]);
    if (!equalBytes(x, y)) {
      let i = 0;
      while (i < n && x[i] === y[i]) i++;
      throw new VhdxError(
        "PARENT_MISMATCH",
        `${vhdxPath} differs from the VHD parent at virtual offset ${hex(at + i)}: it is not the same disk`,
        "virtual disk",
      );
    }
  }
}
