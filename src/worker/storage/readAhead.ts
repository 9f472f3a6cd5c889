/** Fetches `length` bytes at `offset` of the source; bytes past its end read as zeros. */
export type RangeFetch = (offset: number, length: number) => Promise<Uint8Array>;

export interface ReadAheadStats {
  /** Reads served (wholly) from windows. */
  served: number;
  /** Reads passed straight to the source. */
  passed: number;
  /** Windows fetched. */
  windows: number;
}

/** One window: [start, end) of `source`, fetched in a single read. */
interface Window {
  source: Blob;
  start: number;
  end: number;
  bytes: Promise<Uint8Array>;
}

/** Window size and the smallest read that counts as part of a sequential stream, used in the worker. */
export const READ_AHEAD_WINDOW = 16 * 1024 * 1024;
export const READ_AHEAD_MIN_READ = 1024 * 1024;
export const READ_AHEAD_WINDOWS_AHEAD = 2;

/**
 * Sequential read-ahead for a Blob (a picked File). Chromium serves `Blob.slice().arrayBuffer()`
 * at a cost per call and per fresh buffer: measured in a worker, 288 MiB read 4 × 2 MiB at a time
 * took about 3.1 s, in 16 MiB reads about 1.7 s. When a read of at least `minRead` bytes starts
 * where the previous read ended (a conversion, a search, a hash), the bytes from there are fetched
 * as windows of `windowSize` bytes, `ahead` windows beyond the one being read, so the next reads
 * find their bytes waiting; readInto() then copies them into the caller's buffer without any
 * allocation (≈ 2.0 s for the same 288 MiB). Small or scattered reads (hex view, structure reads)
 * never start a window; they are served from one only if it already holds all their bytes.
 *
 * Memory stays bounded at (1 + ahead) × windowSize. Windows belong to one Blob: a read of another
 * Blob (after a write, the file is fetched again as a new File) drops them, so bytes of a previous
 * snapshot are never served. read() returns a fresh array: callers may change it.
 */
export class SequentialReadAhead {
  readonly windowSize: number;
  readonly minRead: number;
  private source: Blob | null = null;
  /** Where a read continuing the stream would start: the end of the last read asked for. */
  private expected = -1;
  /** Contiguous windows, the first holding the stream's position; at most 1 + ahead. */
  private windows: Window[] = [];
  private counts: ReadAheadStats = { served: 0, passed: 0, windows: 0 };

  /** Windows fetched beyond the one holding the stream's position. */
  readonly ahead: number;

  constructor(opts: { windowSize?: number; minRead?: number; ahead?: number } = {}) {
    this.windowSize = opts.windowSize ?? READ_AHEAD_WINDOW;
    this.ahead = Math.max(1, opts.ahead ?? READ_AHEAD_WINDOWS_AHEAD);
    this.minRead = opts.minRead ?? READ_AHEAD_MIN_READ;
    if (!Number.isSafeInteger(this.windowSize) || this.windowSize <= 0)
      throw new RangeError("windowSize must be a positive integer");
  }

  stats(): ReadAheadStats {
    return { ...this.counts };
  }

  /** Bytes held (or being fetched) in windows: at most (1 + ahead) × windowSize. */
  get heldBytes(): number {
    return this.windows.reduce((n, w) => n + (w.end - w.start), 0);
  }

  /** Forgets the windows: the source changed, or is closed. */
  drop(): void {
    this.windows = [];
    this.expected = -1;
  }

  read(source: Blob, offset: number, length: number, fetch: RangeFetch): Promise<Uint8Array> {
    const parts = this.plan(source, offset, length, fetch);
    if (!parts) return fetch(offset, length);
    const out = new Uint8Array(length);
    return copyInto(parts, offset, out).then(() => out);
  }

  /**
   * As read(), into `target` (bytes past the end of the source are zeroed). A stream read this way
   * allocates nothing per read: in Chromium, a fresh multi-MiB buffer per read costs as much as
   * the read itself.
   */
  async readInto(source: Blob, offset: number, target: Uint8Array, fetch: RangeFetch): Promise<void> {
    const parts = this.plan(source, offset, target.length, fetch);
    if (!parts) {
      target.set(await fetch(offset, target.length));
      return;
    }
    await copyInto(parts, offset, target);
  }

  /** The windows that hold the read, after starting or advancing the stream; null to read directly. */
  private plan(source: Blob, offset: number, length: number, fetch: RangeFetch): Window[] | null {
    if (source !== this.source) {
      this.drop();
      this.source = source;
    }
    const sequential = offset === this.expected && length >= this.minRead && length <= this.windowSize;
    this.expected = offset + length;
    const end = Math.min(offset + length, source.size);
    if (length === 0 || offset >= end) return null;
    if (sequential) this.advance(source, offset, fetch);
    const parts = this.covering(offset, end);
    if (parts) this.counts.served++;
    else this.counts.passed++;
    return parts;
  }

  /** Makes the first window hold `offset`, then fetches up to `ahead` windows after it. */
  private advance(source: Blob, offset: number, fetch: RangeFetch): void {
    // Windows the stream has passed are let go; a stream that jumped elsewhere starts over.
    while (this.windows.length > 0 && this.windows[0].end <= offset) this.windows.shift();
    const first = this.windows[0];
    if (first && offset < first.start) this.windows = [];
    if (this.windows.length === 0) this.windows.push(this.open(source, offset, fetch));
    // Bounded by `ahead`: memory is at most (1 + ahead) windows.
    for (
      let last = this.windows[this.windows.length - 1];
      this.windows.length <= this.ahead && last.end < source.size;
    ) {
      last = this.open(source, last.end, fetch);
      this.windows.push(last);
    }
  }

  private open(source: Blob, start: number, fetch: RangeFetch): Window {
    const end = Math.min(source.size, start + this.windowSize);
    const w: Window = { source, start, end, bytes: fetch(start, end - start) };
    this.counts.windows++;
    // A failed window is forgotten so a later read tries the source again; the reads waiting on
    // it get the failure. Nobody may be waiting on a window fetched ahead: that must not go unhandled.
    w.bytes.catch(() => {
      // The windows after it start where it starts, so they go too.
      const at = this.windows.indexOf(w);
      if (at >= 0) this.windows = this.windows.slice(0, at);
    });
    return w;
  }

  /** The windows holding all of [offset, end), in order, or null if they do not. */
  private covering(offset: number, end: number): Window[] | null {
    const parts: Window[] = [];
    let at = offset;
    for (const w of this.windows) {
      if (!w || at >= end) break;
      if (at < w.start || at >= w.end) continue;
      parts.push(w);
      at = w.end;
    }
    return at >= end ? parts : null;
  }
}

/** Copies [offset, offset + target.length) from the windows into `target`; zeros past the last one. */
async function copyInto(parts: Window[], offset: number, target: Uint8Array): Promise<void> {
  const end = offset + target.length;
  let filled = offset;
  for (const w of parts) {
    const bytes = await w.bytes;
    const from = Math.max(offset, w.start);
    const to = Math.min(end, w.end);
    target.set(bytes.subarray(from - w.start, to - w.start), from - offset);
    filled = to;
  }
  if (filled < end) target.fill(0, filled - offset);
}
