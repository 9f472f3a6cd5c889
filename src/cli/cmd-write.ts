import { open } from "node:fs/promises";
import { closeChain } from "../vhdx/chain";
import { describeParentPathChange } from "../vhdx/parentLocatorUpdate";
import { commitPatch, estimatePatch } from "../vhdx/patch";
import { VhdxWriter } from "../vhdx/write";
import { openWithParents } from "../node/resolveParent";
import { flagString, oneImage, ParsedArgs, parseSize, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize } from "./format";

async function readStdin(): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * The whole input file in one buffer, read in as few calls as the system allows (readFile goes
 * 512 KiB at a time, and new Uint8Array(buffer) would copy every byte once more).
 */
async function readWhole(path: string): Promise<Uint8Array> {
  const h = await open(path, "r");
  try {
    const { size } = await h.stat();
    const buf = Buffer.allocUnsafeSlow(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await h.read(buf, done, size - done, done);
      if (bytesRead === 0) break; // the file shrank meanwhile: what was read is the input
      done += bytesRead;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, done);
  } finally {
    await h.close();
  }
}

/** `vhdx write`: the bytes of --input (or stdin) land at --offset as ONE atomic patch. */
export async function writeCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "write");
  if (!a.flags.has("offset")) throw new UsageError("--offset is required");
  const offset = parseSize(flagString(a, "offset")!, "--offset");
  const input = flagString(a, "input");
  const data = input && input !== "-" ? await readWhole(input) : await readStdin();
  const { image, chain, locatorUpdates } = await openWithParents(path, { readOnly: false });
  // §2.6.2.6.3: stale parent paths were rewritten by the open; say so where diagnostics go.
  for (const c of locatorUpdates) process.stderr.write(`vhdx: ${path}: ${describeParentPathChange(c)}\n`);
  try {
    if (offset + data.length > image.virtualSize) {
      throw new UsageError(
        `${data.length} bytes at offset ${offset} run past the end of the virtual disk (${image.virtualSize} bytes)`,
      );
    }
    const w = new VhdxWriter(image);
    const edits = [{ offset, data }];
    const cost = await estimatePatch(w, edits);
    await commitPatch(w, edits);
    await w.finish();
    io.out(
      `wrote ${data.length} bytes at offset ${offset}: ${cost.blocksCopied} blocks copied, ${cost.blocksAllocated} allocated, ${formatSize(cost.bytesWritten)} written\n`,
    );
  } finally {
    await closeChain(chain);
  }
  return 0;
}
