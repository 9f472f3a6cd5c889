import { diskExtents, type ByteSource, type DiskExtent } from "./allocation";
import { VhdxError } from "./errors";
import type { VirtualDisk } from "./image";

/** Reads kept in flight ahead of the piece being handled. */
export const READ_AHEAD = 4;
/** Writes (handlers still running) allowed behind it before the pump waits for one. */
export const WRITE_BEHIND = 3;

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new VhdxError("CANCELLED", `${what} was cancelled`, what);
}

export interface PumpOptions {
  signal?: AbortSignal;
  /** Name of the operation, for the cancellation error. */
  what?: string;
  ahead?: number;
  behind?: number;
  /**
   * Called, in disk order with the pieces, when the pump passes over a run that reads as zeros
   * without reading it: everything before `end` has been handed over or skipped.
   */
  skipped?: (end: number) => void;
}

/** One piece to read: [at, at + length) of the disk, filled from `parts` (offsets in the piece), zeros between. */
interface Plan {
  at: number;
  length: number;
  parts: { offset: number; length: number; from: ByteSource; fileAt: number }[];
}

/**
 * Streams the data of the virtual disk through `handle` in pieces of at most `step` bytes that
 * never cross a multiple of `step`, with reads ahead of the piece being handled and handlers (the
 * writes) still running behind it, so the kernel's copies in and out and the caller's work overlap.
 *
 * Only what may hold data is read: the disk's extents (see diskExtents) say which runs read as
 * zeros, and those are passed over (`skipped`) without a read, an allocation or a call of `handle`.
 * A piece is read straight from where its bytes are (a VHDX image's own file, a parent's) into one
 * of a fixed set of buffers, allocated as needed and reused, so the copy costs no allocation and no
 * page faults per piece. A piece may still be all zeros (data written as zeros): `handle` decides.
 *
 * `handle` is called in disk order, one call at a time up to its first `await` (so whatever it
 * decides synchronously, such as where a block goes, follows the order of the disk). It may return
 * a promise: the piece's bytes stay untouched until that promise settles, and are then reused for
 * a later read, so `handle` must not keep them.
 *
 * The first failure, of a read or of a handler, stops the pump and is thrown once everything in
 * flight has settled: nothing is left running behind the caller's back.
 */
export async function pumpPieces(
  source: VirtualDisk,
  total: number,
  step: number,
  handle: (at: number, bytes: Uint8Array) => Promise<unknown> | void,
  o: PumpOptions = {},
): Promise<void> {
  const ahead = Math.max(1, o.ahead ?? READ_AHEAD);
  const behind = Math.max(0, o.behind ?? WRITE_BEHIND);
  const what = o.what ?? "copy";
  const extents = diskExtents(source, 0, total)[Symbol.asyncIterator]();
  const planner = new Planner(extents, step, total);
  // One buffer per read in flight, per handler running, and the piece in hand; made when first needed.
  const maxBuffers = ahead + behind + 1;
  const free: Uint8Array[] = [];
  let made = 0;
  type Queued =
    { kind: "read"; at: number; done: Promise<Uint8Array>; buffer: Uint8Array } | { kind: "skip"; end: number };
  const queue: Queued[] = [];
  let readsQueued = 0;
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;

  const startReads = async () => {
    while (readsQueued < ahead && !planner.done && !failure) {
      if (free.length === 0 && made === maxBuffers) break;
      const plan = await planner.next((end) => queue.push({ kind: "skip", end }));
      if (!plan) break;
      const buffer = free.pop() ?? (made++, new Uint8Array(Math.min(step, total)));
      const target = buffer.subarray(0, plan.length);
      const done = fill(target, plan).then(() => target);
      // Observed below; a read left in flight by a failure must not go unhandled.
      done.catch(() => undefined);
      queue.push({ kind: "read", at: plan.at, done, buffer });
      readsQueued++;
    }
  };
  const settleOne = async () => {
    // Promises in `running` never reject (failures are recorded), so this only waits.
    await Promise.race(running);
  };

  try {
    while (!failure) {
      throwIfAborted(o.signal, what);
      await startReads();
      // Every buffer is held by a handler: wait for one to finish.
      while (queue.length === 0 && running.size > 0 && !planner.done && !failure) {
        await settleOne();
        await startReads();
      }
      if (failure) break;
      const item = queue.shift();
      if (!item) break;
      if (item.kind === "skip") {
        o.skipped?.(item.end);
        continue;
      }
      readsQueued--;
      const bytes = await item.done;
      const result = handle(item.at, bytes);
      const buffer = item.buffer;
      if (result && typeof (result as Promise<unknown>).then === "function") {
        const p: Promise<void> = (result as Promise<unknown>).then(
          () => {
            running.delete(p);
            free.push(buffer);
          },
          (error: unknown) => {
            running.delete(p);
            failure ??= { error };
          },
        );
        running.add(p);
        while (running.size > behind && !failure) await settleOne();
      } else {
        free.push(buffer);
      }
    }
  } catch (error) {
    failure ??= { error };
  }
  // Let everything in flight finish before returning or throwing.
  await Promise.all(running);
  await Promise.allSettled(queue.map((q) => (q.kind === "read" ? q.done : null)));
  if (!planner.done) await extents.return?.(undefined);
  if (failure) throw failure.error;
}

/** Fills `target` as `plan` says: each part read from its source, zeros between the parts. */
async function fill(target: Uint8Array, plan: Plan): Promise<void> {
  let at = 0;
  const reads: Promise<void>[] = [];
  for (const p of plan.parts) {
    if (p.offset > at) target.fill(0, at, p.offset);
    const into = target.subarray(p.offset, p.offset + p.length);
    reads.push(
      p.from.readInto
        ? p.from.readInto(p.fileAt, into)
        : p.from.read(p.fileAt, p.length).then((bytes) => into.set(bytes)),
    );
    at = p.offset + p.length;
  }
  await Promise.all(reads);
}

/** Cuts the disk's extents into pieces to read: zero runs passed over, data in windows of `step`. */
class Planner {
  done = false;
  private current: DiskExtent | null = null;

  constructor(
    private readonly extents: AsyncIterator<DiskExtent>,
    private readonly step: number,
    private readonly total: number,
  ) {}

  private async peek(): Promise<DiskExtent | null> {
    if (!this.current && !this.done) {
      const r = await this.extents.next();
      if (r.done) this.done = true;
      else this.current = r.value;
    }
    return this.current;
  }

  /** The next piece holding data, or null at the end; zero runs before it go to `skip`. */
  async next(skip: (end: number) => void): Promise<Plan | null> {
    let e = await this.peek();
    while (e && e.data === null) {
      skip(e.end);
      this.current = null;
      e = await this.peek();
    }
    if (!e) return null;
    const at = e.start;
    const windowEnd = Math.min(this.total, at - (at % this.step) + this.step);
    const plan: Plan = { at, length: 0, parts: [] };
    // Bounded: each turn consumes an extent or ends the window.
    while (e && e.start < windowEnd) {
      const partEnd = Math.min(e.end, windowEnd);
      if (e.data) {
        plan.parts.push({ offset: e.start - at, length: partEnd - e.start, from: e.data.from, fileAt: e.data.at });
        plan.length = partEnd - at;
      }
      if (e.end > windowEnd) {
        const cut = windowEnd - e.start;
        this.current = { start: windowEnd, end: e.end, data: e.data && { from: e.data.from, at: e.data.at + cut } };
        break;
      }
      this.current = null;
      e = await this.peek();
    }
    return plan;
  }
}
