import { VhdxError } from "./errors";
import type { VirtualDisk } from "./image";

/** Reads kept in flight ahead of the piece being handled. */
export const READ_AHEAD = 3;
/** Writes (handlers still running) allowed behind it before the pump waits for one. */
export const WRITE_BEHIND = 2;

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new VhdxError("CANCELLED", `${what} was cancelled`, what);
}

export interface PumpOptions {
  signal?: AbortSignal;
  /** Name of the operation, for the cancellation error. */
  what?: string;
  ahead?: number;
  behind?: number;
}

/**
 * Streams the virtual disk through `handle` in consecutive pieces of `step` bytes, with reads
 * ahead of the piece being handled and handlers (the writes) still running behind it, so the
 * kernel's copies in and out and the caller's own work overlap.
 *
 * `handle` is called in piece order, one call at a time up to its first `await` (so whatever it
 * decides synchronously, such as where a block goes, follows the order of the disk). It may return
 * a promise: the piece's bytes stay untouched until that promise settles, and are then reused for
 * a later read. A source that can read into a buffer gets a fixed set of buffers (no allocation,
 * and no page faults, per piece); others are read with fresh arrays. A piece wholly inside one of
 * the source's known zero ranges is not read: it is handed over as a shared array of zeros with
 * `knownZero` set, so `handle` must never change the bytes it is given.
 *
 * The first failure, of a read or of a handler, stops the pump and is thrown once everything in
 * flight has settled: nothing is left running behind the caller's back.
 */
export async function pumpPieces(
  source: VirtualDisk,
  total: number,
  step: number,
  handle: (at: number, bytes: Uint8Array, knownZero: boolean) => Promise<unknown> | void,
  o: PumpOptions = {},
): Promise<void> {
  const ahead = Math.max(1, o.ahead ?? READ_AHEAD);
  const behind = Math.max(0, o.behind ?? WRITE_BEHIND);
  const what = o.what ?? "copy";
  const readInto = source.readInto?.bind(source);
  // One buffer per read in flight, per handler running, and the piece in hand.
  const free: Uint8Array[] =
    readInto && total > 0
      ? Array.from({ length: ahead + behind + 1 }, () => new Uint8Array(Math.min(step, total)))
      : [];
  const zeroRanges = source.knownZeroRanges ? await source.knownZeroRanges() : [];
  let zeroAt = 0;
  let zeros: Uint8Array | null = null;
  /** Whether [at, at + length) lies inside one known zero range; `at` only grows between calls. */
  const knownZero = (at: number, length: number): boolean => {
    while (zeroAt < zeroRanges.length && zeroRanges[zeroAt].end <= at) zeroAt++;
    const r = zeroRanges[zeroAt];
    return r !== undefined && r.start <= at && at + length <= r.end;
  };
  const reads: { at: number; done: Promise<Uint8Array>; buffer: Uint8Array | null; zero: boolean }[] = [];
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  let next = 0;

  const startReads = () => {
    while (reads.length < ahead && next < total) {
      const at = next;
      const length = Math.min(step, total - at);
      if (knownZero(at, length)) {
        zeros ??= new Uint8Array(Math.min(step, total));
        next += length;
        reads.push({ at, done: Promise.resolve(zeros.subarray(0, length)), buffer: null, zero: true });
        continue;
      }
      if (readInto && free.length === 0) break;
      next += length;
      if (readInto) {
        const buffer = free.pop()!;
        const target = buffer.subarray(0, length);
        reads.push({ at, done: readInto(at, target).then(() => target), buffer, zero: false });
      } else {
        reads.push({ at, done: source.read(at, length), buffer: null, zero: false });
      }
      // Observed below; a read left in flight by a failure must not go unhandled.
      reads[reads.length - 1].done.catch(() => undefined);
    }
  };
  const settleOne = async () => {
    // Promises in `running` never reject (failures are recorded), so this only waits.
    await Promise.race(running);
  };

  try {
    for (let at = 0; at < total && !failure;) {
      throwIfAborted(o.signal, what);
      startReads();
      // Every buffer is held by a handler: wait for one to finish.
      while (reads.length === 0 && running.size > 0 && !failure) {
        await settleOne();
        startReads();
      }
      if (failure) break;
      const piece = reads.shift()!;
      const bytes = await piece.done;
      at = piece.at + bytes.length;
      const result = handle(piece.at, bytes, piece.zero);
      const buffer = piece.buffer;
      if (result && typeof (result as Promise<unknown>).then === "function") {
        const p: Promise<void> = (result as Promise<unknown>).then(
          () => {
            running.delete(p);
            if (buffer) free.push(buffer);
          },
          (error: unknown) => {
            running.delete(p);
            failure ??= { error };
          },
        );
        running.add(p);
        while (running.size > behind && !failure) await settleOne();
      } else if (buffer) {
        free.push(buffer);
      }
    }
  } catch (error) {
    failure ??= { error };
  }
  // Let everything in flight finish before returning or throwing.
  await Promise.all(running);
  await Promise.allSettled(reads.map((r) => r.done));
  if (failure) throw failure.error;
}
