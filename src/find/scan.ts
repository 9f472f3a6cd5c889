/**
 * Find over a whole byte space (a virtual disk, a raw file), streamed: chunks of a few MiB are
 * read and searched in turn, each reading the pattern's length less one byte past its end, so a
 * match across a chunk border is found once, in the chunk where it starts.
 *
 * Runs the source says read as zeros (a sparse disk's NOT_PRESENT, ZERO and UNMAPPED blocks, a
 * block no image of a chain holds) are never read. Every start either lets the pattern touch a
 * data byte or puts it wholly on zeros; the first kind is searched in the data, the second needs
 * no reading at all: it never matches when a fixed byte of the pattern is not zero, and always
 * matches when every fixed byte is zero (its first start is then a match, found without a scan).
 * An empty 64 TiB disk is so searched in the time its block map takes to walk.
 */
import { VhdxError } from "../vhdx/errors";
import { findIn } from "./match";
import { matchesZeros, type Pattern } from "./pattern";

/** A run [start, end) of the space; `data` false when it reads as zeros without being read. */
export interface SpaceRun {
  start: number;
  end: number;
  data: boolean;
}

/** What Find searches: its size, where its data is, and a way to read it. */
export interface SearchSource {
  size: number;
  /** The runs of [offset, offset + length), in order, end to end. */
  runs(offset: number, length: number): AsyncIterable<SpaceRun>;
  /** Fills `target` with the bytes at `offset`. */
  readInto(offset: number, target: Uint8Array): Promise<void>;
  /** Starts planned at once: the runs of this many bytes are asked for in one go (a few thousand blocks). */
  window: number;
}

export interface ScanOptions {
  signal?: AbortSignal;
  /** Starts covered so far, of all starts in the direction searched. */
  onProgress?: (done: number, total: number) => void;
  /** Starts searched per read; the read is this plus the pattern's length less one. */
  chunk?: number;
}

export const FIND_CHUNK = 4 * 1024 * 1024;

/** A stretch of starts [a, b]: each either touches data, or lies wholly on zeros. */
interface Stretch {
  a: number;
  b: number;
  data: boolean;
}

/** The stretches of starts [lo, hi], in order: data runs widened by the pattern's length, zeros between. */
async function stretches(src: SearchSource, n: number, lo: number, hi: number): Promise<Stretch[]> {
  const out: Stretch[] = [];
  let pos = lo;
  const end = Math.min(src.size, hi + n);
  for await (const r of src.runs(lo, end - lo)) {
    if (!r.data) continue;
    const a = Math.max(lo, r.start - n + 1);
    const b = Math.min(hi, r.end - 1);
    if (a > b) continue;
    const last = out[out.length - 1];
    if (last && last.data && a <= last.b + 1) {
      last.b = Math.max(last.b, b);
      pos = last.b + 1;
      continue;
    }
    if (a > pos) out.push({ a: pos, b: a - 1, data: false });
    out.push({ a, b, data: true });
    pos = b + 1;
  }
  if (pos <= hi) out.push({ a: pos, b: hi, data: false });
  return out;
}

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new VhdxError("CANCELLED", "Find was cancelled", "find");
}

/**
 * Every match, in order of the search (non-overlapping, as grep counts them): starts at or after
 * `from` going forward, at or before it going backward. Stop iterating to stop the search.
 */
export async function* findMatches(
  src: SearchSource,
  p: Pattern,
  from: number,
  backward = false,
  o: ScanOptions = {},
): AsyncGenerator<number> {
  const n = p.bytes.length;
  const last = src.size - n;
  const lo = backward ? 0 : Math.max(0, from);
  const hi = backward ? Math.min(from, last) : last;
  if (lo > hi) return;
  const total = hi - lo + 1;
  const chunk = Math.max(1, o.chunk ?? FIND_CHUNK);
  const zerosMatch = matchesZeros(p);
  // Two read buffers (one searched, one filling), made when the first data is met: a disk that is all zeros needs none.
  const bufs: Uint8Array[] = [];
  const buffer = (i: number) => (bufs[i] ??= new Uint8Array(Math.min(chunk, total) + n - 1));
  // Non-overlapping: the next match starts past the previous one (before it, backward).
  let bound = backward ? hi : lo;
  const window = Math.max(chunk, src.window);
  const windows = Math.ceil(total / window);
  for (let w = 0; w < windows; w++) {
    cancelled(o.signal);
    const pS = backward ? Math.max(lo, hi - (w + 1) * window + 1) : lo + w * window;
    const pE = backward ? hi - w * window : Math.min(hi, lo + (w + 1) * window - 1);
    const list = await stretches(src, n, pS, pE);
    if (backward) list.reverse();
    for (const s of list) {
      if (!s.data) {
        if (zerosMatch) {
          // Every start here matches: step by the pattern's length (non-overlapping), bounded by the stretch.
          const step = backward ? -n : n;
          for (let at = backward ? Math.min(s.b, bound) : Math.max(s.a, bound); at >= s.a && at <= s.b; at += step) {
            bound = at + step;
            yield at;
          }
        }
        continue;
      }
      // The chunks of the stretch in search order, each read while the one before is searched.
      const starts: number[] = [];
      if (backward) for (let c = s.b; c >= s.a; c -= chunk) starts.push(Math.max(s.a, c - chunk + 1));
      else for (let c = s.a; c <= s.b; c += chunk) starts.push(c);
      const load = (i: number): Promise<Uint8Array> => {
        const c = starts[i];
        const cEnd = backward ? (i === 0 ? s.b : starts[i - 1] - 1) : Math.min(s.b, c + chunk - 1);
        const buf = buffer(i & 1).subarray(0, cEnd - c + n);
        const read = src.readInto(c, buf).then(() => buf);
        // Observed when its turn comes; one left behind by a caller that stopped must not go unhandled.
        read.catch(() => undefined);
        return read;
      };
      let pending = load(0);
      for (let i = 0; i < starts.length; i++) {
        cancelled(o.signal);
        const buf = await pending;
        if (i + 1 < starts.length) pending = load(i + 1);
        const c = starts[i];
        const top = buf.length - n;
        for (let guard = 0; guard <= top + 1; guard++) {
          const at = backward ? findIn(buf, p, 0, bound - c, true) : findIn(buf, p, bound - c, top);
          if (at < 0) break;
          bound = backward ? c + at - n : c + at + n;
          yield c + at;
        }
        const covered = backward ? hi - c + 1 : c + top - lo + 1;
        o.onProgress?.(covered, total);
      }
    }
    o.onProgress?.(backward ? hi - pS + 1 : pE - lo + 1, total);
  }
}

/** The first match going forward from `from` (backward: the last at or before it); -1 when none. */
export async function findFirst(
  src: SearchSource,
  p: Pattern,
  from: number,
  backward = false,
  o: ScanOptions = {},
): Promise<number> {
  for await (const at of findMatches(src, p, from, backward, o)) return at;
  return -1;
}

/** How many non-overlapping matches the whole space holds (for the bench, as `grep -c` counts). */
export async function countMatches(src: SearchSource, p: Pattern, o: ScanOptions = {}): Promise<number> {
  let count = 0;
  for await (const _ of findMatches(src, p, 0, false, o)) count++;
  return count;
}
