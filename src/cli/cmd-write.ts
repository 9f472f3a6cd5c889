import { createReadStream } from "node:fs";
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
import { hasKnownSize, sizeOf } from "../node/deviceSize";

/**
 * The input as a source. A regular file or a block device has a size (a device's found where its
 * reads end) and is read straight into the engine's block buffer; anything else (a pipe, a FIFO,
 * /dev/stdin, `<(…)`, a character device) is read as a stream of unknown length, which the
 * engine stages block by block before its one commit.
 */
async function fileSource(path: string): Promise<{ source: ByteSource; close: () => Promise<void> }> {
  let h;
  try {
    h = await open(path, "r");
  } catch (e) {
    // /dev/stdin (or /dev/fd/N) on a socket cannot be opened again (ENXIO): read the descriptor itself.
    const fd = /^(?:\/dev\/stdin|\/dev\/fd\/(\d+)|\/proc\/self\/fd\/(\d+))$/.exec(path);
    if ((e as NodeJS.ErrnoException).code !== "ENXIO" || !fd) throw e;
    const n = Number(fd[1] ?? fd[2] ?? 0);
    const stream = n === 0 ? process.stdin : createReadStream("", { fd: n, autoClose: false });
    return { source: piecesSource(stream as AsyncIterable<Uint8Array>), close: async () => undefined };
  }
  const st = await h.stat();
  if (!hasKnownSize(st)) {
    const stream = createReadStream("", { fd: h, autoClose: false });
    return { source: piecesSource(stream as AsyncIterable<Uint8Array>), close: () => h.close() };
  }
  const size = await sizeOf(h, st);
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
    const { image, chain, locatorUpdates } = await openWithParents(path, { readOnly: false, lock: true });
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
      // An empty input (a pipe closed before any byte) is no success to report.
      if (r.bytes === 0)
        throw new VhdxError(
          "INVALID_ARGUMENT",
          `the input ${input ?? "(stdin)"} was empty: nothing was written`,
          "input",
        );
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
