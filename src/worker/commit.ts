import { VhdxError } from "../vhdx/errors";
import { openImage } from "../vhdx/image";
import type { RandomAccess } from "../vhdx/io";
import { commitPatch as commitVirtualPatch, estimatePatch, type PatchCost } from "../vhdx/patch";
import { checkStructurePatch, commitStructurePatch, type StructureEdit } from "../vhdx/structurePatch";
import { VhdxWriter } from "../vhdx/write";
import type { CallContext } from "./protocol";
import {
  assertEditable,
  carryChain,
  commitOnStorage,
  editRefusal,
  LOG_REASON,
  runCommit,
  type Session,
} from "./session";
import { current, exclusive } from "./state";
import { throwIfCancelled } from "./storage/copy";
import { WritableHandleBackend, type CommitCost } from "./storage/writableHandleBackend";

/** One edit of a patch: virtual disk bytes, or raw file bytes inside the structures (BAT, metadata, region tables). */
export interface PatchWrite {
  space: "virtual" | "file";
  offset: number;
  data: Uint8Array;
}

export interface PatchCostReport {
  /** The engine's estimate for the virtual-disk edits; null when there are none. */
  virtual: PatchCost | null;
  /** 4 KiB file sectors of the structure edits, committed through one log entry. */
  structureSectors: number;
  /** Why the patch cannot be committed as it stands; empty when it can. */
  problems: string[];
  /** On a user's file: the browser's copy of the whole file per commit. Null elsewhere. */
  storage: CommitCost | null;
}

export interface CommitReport {
  /** False only when a writable-handle commit outgrew the staging budget and was closed early. */
  atomic: boolean;
  blocksAllocated: number;
  blocksCopied: number;
  bytesWritten: number;
  ms: number;
  /** What the engine did on its own to let the commit through (the log grown, see ensureLogRoom). */
  notices: string[];
}

/** Runs `fn` with the writer's notices collected (the session's writer outlives one commit). */
export async function collectingNotices<T>(w: VhdxWriter, notices: string[], fn: () => Promise<T>): Promise<T> {
  const before = w.notice;
  w.notice = (m) => notices.push(m);
  try {
    return await fn();
  } finally {
    w.notice = before;
  }
}

function split(patch: readonly PatchWrite[]): {
  virtual: { offset: number; data: Uint8Array }[];
  structure: StructureEdit[];
} {
  const virtual: { offset: number; data: Uint8Array }[] = [];
  const structure: StructureEdit[] = [];
  for (const p of patch) {
    if (p.space === "virtual") virtual.push({ offset: p.offset, data: p.data });
    else if (p.space === "file") structure.push({ fileOffset: p.offset, data: p.data });
    else throw new VhdxError("INVALID_ARGUMENT", `Unknown address space "${String(p.space)}"`, "patch", p.offset);
  }
  return { virtual, structure };
}

/** The session's writer, made on its first commit. */
export function writerOf(s: Session): VhdxWriter {
  if (!s.writer) s.writer = new VhdxWriter(s.image);
  return s.writer;
}

/**
 * After a failed or cancelled commit the image in memory may be ahead of the file (a
 * writable-handle commit is aborted whole): read it again from storage.
 */
export async function reload(s: Session): Promise<void> {
  s.writer = null;
  const before = s.image;
  try {
    s.image = await openImage(s.backend as RandomAccess, { readOnly: false, replay: "refuse" });
  } catch (e) {
    if (!(e instanceof VhdxError) || e.code !== "LOG_NEEDS_REPLAY") throw e;
    s.image = await openImage(s.backend as RandomAccess, { readOnly: true });
    s.readOnly = true;
    s.readOnlyReason = LOG_REASON;
    s.logAwaitsReplay = true;
  }
  carryChain(before, s.image);
}

/** What committing `patch` would cost and whether it can be committed, without writing anything. */
export async function patchCost(_ctx: CallContext, patch: PatchWrite[]): Promise<PatchCostReport> {
  const s = current();
  const storage = s.backend instanceof WritableHandleBackend ? s.backend.commitCost() : null;
  if (s.readOnly) {
    return { virtual: null, structureSectors: 0, problems: [`read-only: ${s.readOnlyReason}`], storage };
  }
  const refusal = editRefusal(s);
  if (refusal) return { virtual: null, structureSectors: 0, problems: [refusal.message], storage };
  const { virtual, structure } = split(patch);
  const problems: string[] = [];
  const cost = virtual.length ? await estimatePatch(writerOf(s), virtual) : null;
  let structureSectors = 0;
  if (structure.length) {
    const check = await checkStructurePatch(s.image, structure);
    if (check.ok) structureSectors = check.sectors.length;
    else problems.push(check.reason);
  }
  return { virtual: cost, structureSectors, problems, storage };
}

/**
 * Commits a patch all or nothing: virtual edits copy-on-write with one log entry, structure edits
 * as one log entry of data descriptors, then the log is marked empty. On a user's file all of it
 * goes through one writable (one copy of the file); cancelling before the end discards it whole.
 */
export function commitPatch(ctx: CallContext, patch: PatchWrite[]): Promise<CommitReport> {
  return exclusive(async () => {
    const s = current();
    // Refused before the writer exists: nothing (not even the session's header update) is written.
    assertEditable(s);
    const { virtual, structure } = split(patch);
    const w = writerOf(s);
    const cost = virtual.length ? await estimatePatch(w, virtual) : null;
    const t0 = performance.now();
    let atomic: boolean;
    const notices: string[] = [];
    try {
      ({ atomic } = await collectingNotices(w, notices, () =>
        runCommit(s, async () => {
          throwIfCancelled(ctx.signal, "Commit");
          ctx.progress(0, 0);
          if (virtual.length) await commitVirtualPatch(w, virtual);
          ctx.progress(0.6, cost?.bytesWritten ?? 0);
          if (structure.length) await commitStructurePatch(w, structure);
          // On a user's file nothing has reached the disk yet: a cancel here still discards it all.
          // One turn of the event loop first, so a cancel message already sent is seen.
          await new Promise((r) => setTimeout(r, 0));
          throwIfCancelled(ctx.signal, "Commit");
          await w.finish();
        }),
      ));
    } catch (e) {
      await reload(s);
      throw e;
    }
    ctx.progress(1, cost?.bytesWritten ?? 0);
    return {
      atomic,
      blocksAllocated: cost?.blocksAllocated ?? 0,
      blocksCopied: cost?.blocksCopied ?? 0,
      bytesWritten: cost?.bytesWritten ?? 0,
      ms: performance.now() - t0,
      notices,
    };
  });
}

/** Replays a pending log into the file (§2.3.3) as one commit; the image becomes editable. */
export function replay(_ctx: CallContext): Promise<{ replayed: boolean }> {
  return exclusive(async () => {
    const s = current();
    if (!s.logAwaitsReplay) return { replayed: false };
    const before = s.image;
    try {
      await commitOnStorage(s.backend, async () => {
        s.image = await openImage(s.backend as RandomAccess, { readOnly: false });
        carryChain(before, s.image);
      });
    } catch (e) {
      await reload(s);
      throw e;
    }
    s.writer = null;
    s.readOnly = false;
    s.readOnlyReason = null;
    s.logAwaitsReplay = false;
    return { replayed: true };
  });
}
