import { open } from "node:fs/promises";
import { closeChain } from "../vhdx/chain";
import { VhdxError } from "../vhdx/errors";
import { describeParentPathChange } from "../vhdx/parentLocatorUpdate";
import { piecesSource, type ByteSource } from "../vhdx/source";
import { commitStreamPatch } from "../vhdx/streamPatch";
import { VhdxWriter } from "../vhdx/write";
import { openWithParents } from "../node/resolveParent";
import { flagString, oneImage, ParsedArgs, parseSize, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize } from "./format";

/** The input file as a source of known size, read straight into the engine's block buffer. */
async function fileSource(path: string): Promise<{ source: ByteSource; close: () => Promise<void> }> {
  const h = await open(path, "r");
  const { size } = await h.stat();
  let at = 0;
  const source: ByteSource = {
    size,
    async read(buf) {
      let filled = 0;
      while (filled < buf.length) {
        const { bytesRead } = await h.read(buf, filled, buf.length - filled, at);
        if (bytesRead === 0) break; // the file shrank meanwhile: what was read is the input
        filled += bytesRead;
        at += bytesRead;
      }
      return filled;
    },
  };
  return { source, close: () => h.close() };
}

/**
 * `vhdx write`: the bytes of --input (or stdin) land at --offset as ONE atomic patch, streamed a
 * block at a time (memory bounded by the block size, whatever the input's length).
 */
export async function writeCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "write");
  if (!a.flags.has("offset")) throw new UsageError("--offset is required");
  const offset = parseSize(flagString(a, "offset")!, "--offset");
  const input = flagString(a, "input");
  const file = input && input !== "-" ? await fileSource(input) : null;
  const source = file?.source ?? piecesSource(process.stdin as AsyncIterable<Uint8Array>);
  try {
    const { image, chain, locatorUpdates } = await openWithParents(path, { readOnly: false });
    // §2.6.2.6.3: stale parent paths were rewritten by the open; say so where diagnostics go.
    for (const c of locatorUpdates) process.stderr.write(`vhdx: ${path}: ${describeParentPathChange(c)}\n`);
    try {
      if (source.size !== undefined && offset + source.size > image.virtualSize) {
        throw new UsageError(
          `${source.size} bytes at offset ${offset} run past the end of the virtual disk (${image.virtualSize} bytes)`,
        );
      }
      const w = new VhdxWriter(image);
      w.notice = (m) => process.stderr.write(`vhdx: ${path}: ${m}\n`);
      let r;
      try {
        r = await commitStreamPatch(w, offset, source);
      } catch (e) {
        if (e instanceof VhdxError && e.code === "OUT_OF_RANGE") throw new UsageError(e.message);
        throw e;
      } finally {
        await w.finish();
      }
      io.out(
        `wrote ${r.bytes} bytes at offset ${offset}: ${r.cost.blocksCopied} blocks copied, ${r.cost.blocksAllocated} allocated, ${formatSize(r.cost.bytesWritten)} written\n`,
      );
    } finally {
      await closeChain(chain);
    }
  } finally {
    await file?.close();
  }
  return 0;
}
