/**
 * "Write file…": the bytes of a local file (a Blob) land at a virtual disk offset as ONE atomic
 * patch, the worker's side of `vhdx write --input`. The Blob is streamed into the engine's
 * commitStreamPatch a piece at a time (Blob.stream()), so the worker holds one payload block of
 * it, never the whole file. The cost is known before, from the file's size alone.
 */
import { fingerprintDifference, fingerprintOf } from "./fingerprint";
import { VhdxError } from "../vhdx/errors";
import { logEntryBytes, PatchCostCounter, rangeBlocks, requireLogRoom, type PatchCost } from "../vhdx/patch";
import { MAX_LOG_LENGTH } from "../vhdx/logResize";
import { piecesSource } from "../vhdx/source";
import { commitStreamPatch } from "../vhdx/streamPatch";
import { collectingNotices, reload, writerOf, type CommitReport } from "./commit";
import type { CallContext } from "./protocol";
import { editRefusal, runCommit, type Session } from "./session";
import { opfsFile } from "./storage/opfs";
import { current, exclusive } from "./state";
import { throwIfCancelled } from "./storage/copy";
import { WritableHandleBackend, type CommitCost } from "./storage/writableHandleBackend";

export interface WriteFileCost {
  /** The engine's count for the range; null when it is refused before counting (read-only, past the end). */
  cost: PatchCost | null;
  /** The error a commit would raise (READ_ONLY, PARENT_NOT_FOUND, OUT_OF_RANGE, LOG_FULL); null when it can commit. */
  refusal: { code: string; message: string } | null;
  /** On a user's file: the browser's copy of the whole file per commit. Null elsewhere. */
  storage: CommitCost | null;
}

export interface WriteFileReport extends CommitReport {
  /** Bytes of the file written at the offset. */
  bytes: number;
}

function pastTheEnd(offset: number, size: number, virtualSize: number): VhdxError | null {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0) {
    return new VhdxError("INVALID_ARGUMENT", `offset ${offset} and size ${size} must be whole bytes`, "virtual disk");
  }
  if (offset + size <= virtualSize) return null;
  return new VhdxError(
    "OUT_OF_RANGE",
    `${size} bytes at offset ${offset} run past the end of the virtual disk (${virtualSize} bytes) by ${offset + size - virtualSize} bytes`,
    "virtual disk",
    offset,
  );
}

/**
 * What writing `size` bytes at virtual `offset` costs, counted block by block from the range alone
 * (PatchCostCounter over rangeBlocks, the count commitStreamPatch itself checks before writing),
 * and why it would be refused. Nothing is written.
 */
export async function writeFileCost(_ctx: CallContext, offset: number, size: number): Promise<WriteFileCost> {
  const s = current();
  const storage = s.backend instanceof WritableHandleBackend ? s.backend.commitCost() : null;
  const refused = editRefusal(s) ?? pastTheEnd(offset, size, s.image.virtualSize);
  if (refused) return { cost: null, refusal: { code: refused.code, message: refused.message }, storage };
  const counter = new PatchCostCounter(s.image);
  for (const [block, spans] of rangeBlocks(s.image, offset, size)) counter.addBlock(block, spans);
  const cost = counter.cost(writerOf(s));
  try {
    // A log too small for the entry is grown by the commit (ensureLogRoom); only the largest log's limit refuses.
    if (logEntryBytes(cost.logSectors) > MAX_LOG_LENGTH)
      requireLogRoom(s.image, cost.logSectors, `writing ${size} bytes`);
    return { cost, refusal: null, storage };
  } catch (e) {
    if (!(e instanceof VhdxError)) throw e;
    return { cost, refusal: { code: e.code, message: e.message }, storage };
  }
}

/**
 * Writes `file` at virtual `offset` as one commit, through the same session path as a hex Commit
 * (runCommit: one writable on a user's file; the engine renews the session's write GUIDs). Progress
 * follows the bytes read from the file. A cancel before the log entry abandons the staged blocks
 * (the engine's abandon path; on a user's file the writable is discarded whole); after it, the
 * write is done and the cancel comes too late to matter.
 */
export function writeFile(ctx: CallContext, offset: number, file: Blob): Promise<WriteFileReport> {
  return exclusive(async () => {
    const s = current();
    // Refused before the writer exists: nothing (not even a header update) is written.
    const refused = editRefusal(s) ?? pastTheEnd(offset, file.size, s.image.virtualSize) ?? (await ownFile(s, file));
    if (refused) throw refused;
    const w = writerOf(s);
    const t0 = performance.now();
    let result;
    const notices: string[] = [];
    try {
      result = await collectingNotices(w, notices, () =>
        runCommit(s, async () => {
          throwIfCancelled(ctx.signal, "Write file");
          ctx.progress(0, 0);
          const source = piecesSource(blobPieces(file), file.size);
          const r = await commitStreamPatch(w, offset, source, {
            signal: ctx.signal,
            onProgress: (p) => ctx.progress(p.total ? p.done / p.total : 1, p.done),
          });
          await w.finish();
          return r;
        }),
      );
    } catch (e) {
      await reload(s);
      throw e;
    }
    const { value, atomic } = result;
    ctx.progress(1, value.bytes);
    return {
      atomic,
      bytes: value.bytes,
      blocksAllocated: value.cost.blocksAllocated,
      blocksCopied: value.cost.blocksCopied,
      bytesWritten: value.cost.bytesWritten,
      ms: performance.now() - t0,
      notices,
    };
  });
}

/**
 * FILE_IN_USE when `file` is the open image's own file. A chosen or dropped File carries no
 * identity to compare (no path, no inode), so its fingerprint stands for it (fingerprint.ts): the
 * same size, last change and SHA-256 of the first and last MiB as the open file. A copy of the
 * image made at the same instant would be taken for it too; the message says what was compared.
 */
async function ownFile(s: Session, file: Blob): Promise<VhdxError | null> {
  if (!(file instanceof File) || s.source.kind === "file") return null;
  let own: File;
  try {
    own =
      s.source.kind === "handle" ? await s.source.handle.getFile() : await (await opfsFile(s.source.path)).getFile();
  } catch {
    return null; // An OPFS file held open by this session: never a File from a picker or a drop.
  }
  // Size and last change first: the hashes are read only when those agree.
  const maybe = own.size === file.size && own.lastModified === file.lastModified;
  const same = maybe && fingerprintDifference(await fingerprintOf(own), await fingerprintOf(file)) === null;
  return same
    ? new VhdxError(
        "FILE_IN_USE",
        `${file.name} is the image open in the editor (same size, last change and first and last MiB); it cannot be written into itself`,
        "Write file",
      )
    : null;
}

/** A Blob's bytes as the pieces its stream hands out (a few KiB to a few MiB each), read on demand. */
async function* blobPieces(file: Blob): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // An abandoned write stops reading the file.
    await reader.cancel().catch(() => undefined);
  }
}
