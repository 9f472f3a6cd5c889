/**
 * The worker's log, check and repair methods: the engine's logReport, checkImage and repairImage
 * over the open session's storage.
 */
import { checkImage, type CheckReport } from "../vhdx/check";
import { repairImage, type RepairAction, type RepairResult } from "../vhdx/check/repair";
import { VhdxError } from "../vhdx/errors";
import { openImage } from "../vhdx/image";
import type { RandomAccess } from "../vhdx/io";
import { OverlayBackend } from "../vhdx/log";
import { logReport, type LogReport } from "../vhdx/logReport";
import { transfer, type CallContext, type Transfer } from "./protocol";
import { carryChain, commitOnStorage, LOG_REASON, MISMATCH_REASON, type Session } from "./session";
import { current, exclusive } from "./state";
import { BlobBackend } from "./storage/blobBackend";
import { throwIfCancelled } from "./storage/copy";

/** A copy of `b` in a buffer of its own, so it can be transferred without detaching engine memory. */
function own(b: Uint8Array, list: Transferable[]): Uint8Array {
  const c = b.slice();
  list.push(c.buffer);
  return c;
}

/** The log as the Log view shows it: every entry, the active sequence, the replay preview. */
export async function log(): Promise<Transfer<LogReport>> {
  const r = await logReport(current().image);
  const list: Transferable[] = [];
  const value: LogReport = {
    ...r,
    entries: r.entries.map((e) => ({
      ...e,
      descriptors: e.descriptors.map((d) => ({
        ...d,
        leadingBytes: d.leadingBytes ? own(d.leadingBytes, list) : null,
        trailingBytes: d.trailingBytes ? own(d.trailingBytes, list) : null,
      })),
    })),
    preview: r.preview.map((p) => ({ ...p, before: own(p.before, list), after: own(p.after, list) })),
  };
  return transfer(value, list);
}

/** Every rule of the format over the file as stored (a pending log is checked as replayed in memory). */
export async function check(ctx: CallContext): Promise<CheckReport> {
  const s = current();
  const report = await checkImage(s.backend as RandomAccess, {
    onProgress: (fraction) => {
      throwIfCancelled(ctx.signal, "Check");
      ctx.progress(fraction, Math.round(fraction * s.image.fileSize));
    },
  });
  throwIfCancelled(ctx.signal, "Check");
  return report;
}

export interface RepairPlan {
  /** The repairs that would run, each with the file ranges it writes. */
  actions: RepairAction[];
  /** Findings no safe repair addresses, and why. */
  skipped: string[];
  /** Why the repairs cannot be run on this session's storage; null when they can. */
  blocked: string | null;
}

/** Storage the session could write: a user's file or a working copy, held under this tab's lock. */
function writableStorage(s: Session): string | null {
  if (s.backend instanceof BlobBackend || s.backend.readOnly || !s.lock) {
    return s.readOnlyReason ?? "the file is open read-only";
  }
  return null;
}

/**
 * What `repair()` would do, found by running the repairs over an in-memory overlay of the file:
 * the same code, the same order, nothing written.
 */
export function repairPlan(ctx: CallContext): Promise<RepairPlan> {
  return exclusive(async () => {
    const s = current();
    const base = s.backend as RandomAccess;
    const report = await checkImage(base);
    throwIfCancelled(ctx.signal, "Repair plan");
    const overlay = await OverlayBackend.over(base);
    const r = await repairImage(overlay, report);
    return { actions: r.actions, skipped: r.skipped, blocked: writableStorage(s) };
  });
}

export interface RepairReport extends RepairResult {
  /** True when the repairs went through one writable (swapped in whole), or landed in place. */
  atomic: boolean;
  /** The checker's report on the repaired file. */
  after: CheckReport;
  /** How the repaired image is open now. */
  access: { readOnly: boolean; readOnlyReason: string | null; logAwaitsReplay: boolean };
}

/**
 * Runs the safe repairs (log replay, header rewrite, region table copy) on the open file as one
 * commit, then opens the repaired file again. A damaged image opened read-only for inspection can
 * be repaired when its storage is writable.
 */
export function repair(ctx: CallContext): Promise<RepairReport> {
  return exclusive(async () => {
    const s = current();
    const blocked = writableStorage(s);
    if (blocked) throw new VhdxError("READ_ONLY", `${s.name} cannot be repaired: ${blocked}`, s.name);
    let result: RepairResult;
    let atomic: boolean;
    ctx.progress(0, 0);
    try {
      ({ value: result, atomic } = await commitOnStorage(s.backend, async () => {
        const io = s.backend as RandomAccess;
        const report = await checkImage(io);
        throwIfCancelled(ctx.signal, "Repair");
        ctx.progress(0.3, 0);
        const r = await repairImage(io, report);
        // On a user's file nothing has reached the disk yet: a cancel here discards it all.
        await new Promise((res) => setTimeout(res, 0));
        throwIfCancelled(ctx.signal, "Repair");
        return r;
      }));
    } finally {
      await reopen(s);
    }
    const after = await checkImage(s.backend as RandomAccess);
    ctx.progress(1, 0);
    const access = { readOnly: s.readOnly, readOnlyReason: s.readOnlyReason, logAwaitsReplay: s.logAwaitsReplay };
    return { ...result, atomic, after, access };
  });
}

/** Opens the image on the session's storage again, editable when the engine allows it now. */
async function reopen(s: Session): Promise<void> {
  s.writer = null;
  s.image.invalidateCaches();
  const before = s.image;
  const io = s.backend as RandomAccess;
  try {
    s.image = await openImage(io, { readOnly: false, replay: "refuse" });
    s.readOnly = false;
    s.readOnlyReason = null;
    s.logAwaitsReplay = false;
  } catch (e) {
    if (!(e instanceof VhdxError) || e.code === "IO_ERROR") throw e;
    s.image = await openImage(io, { readOnly: true });
    s.readOnly = true;
    s.logAwaitsReplay = e.code === "LOG_NEEDS_REPLAY";
    s.readOnlyReason = s.logAwaitsReplay ? LOG_REASON : `the engine refuses to edit this image: ${e.message}`;
  }
  carryChain(before, s.image);
  // A parent attached over a linkage mismatch keeps the image read-only, repaired or not.
  if (!s.readOnly && s.image.warnings.some((w) => w.code === "PARENT_MISMATCH")) {
    s.readOnly = true;
    s.readOnlyReason = MISMATCH_REASON;
  }
}
