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

/**
 * Sequential read-ahead for a Blob (a picked File). Chromium serves `Blob.slice().arrayBuffer()`
 * at a cost per call: measured in a worker, 256 MiB took 7.3 s in 2 MiB reads and about 5 s in
 * 16 MiB reads. When a read of at least `minRead` bytes starts where the previous read ended (a
 * conversion, a search, a hash), the bytes from there are fetched as one window of `windowSize`
 * bytes, and the window after it is fetched too, so the next reads find their bytes waiting.
 * Small or scattered reads (hex view, structure reads) never start a window; they are served from
 * one only if it already holds all their bytes.
 *
 * At most two windows are held (the one being read and the next), so memory stays bounded at
 * 2 × windowSize. Windows belong to one Blob: a read of another Blob (after a write, the file is
 * fetched again as a new File) drops them, so bytes of a previous snapshot are never served.
 * Every read returns a fresh array: callers may change it.
 */
export class SequentialReadAhead {
  readonly windowSize: number;
  readonly minRead: number;
  private source: Blob | null = null;
  /** Where a read continuing the stream would start: the end of the last read asked for. */
  private expected = -1;
  private current: Window | null = null;
  private next: Window | null = null;
  private counts: ReadAheadStats = { served: 0, passed: 0, windows: 0 };

  constructor(opts: { windowSize?: number; minRead?: number } = {}) {
    this.windowSize = opts.windowSize ?? READ_AHEAD_WINDOW;
    this.minRead = opts.minRead ?? READ_AHEAD_MIN_READ;
    if (!Number.isSafeInteger(this.windowSize) || this.windowSize <= 0)
      throw new RangeError("windowSize must be a positive integer");
  }

  stats(): ReadAheadStats {
    return { ...this.counts };
  }

  /** Bytes held (or being fetched) in windows: at most 2 × windowSize. */
  get heldBytes(): number {
    return (
      (this.current ? this.current.end - this.current.start : 0) + (this.next ? this.next.end - this.next.start : 0)
    );
  }

  /** Forgets the windows: the source changed, or is closed. */
  drop(): void {
    this.current = null;
    this.next = null;
    this.expected = -1;
  }

  read(source: Blob, offset: number, length: number, fetch: RangeFetch): Promise<Uint8Array> {
    if (source !== this.source) {
      this.drop();
      this.source = source;
    }
    const sequential = offset === this.expected && length >= this.minRead && length <= this.windowSize;
    this.expected = offset + length;
    const end = Math.min(offset + length, source.size);
    if (length === 0 || offset >= end) return fetch(offset, length);
    if (sequential) this.advance(source, offset, fetch);
    const parts = this.covering(offset, end);
    if (!parts) {
      this.counts.passed++;
      return fetch(offset, length);
    }
    this.counts.served++;
    return assemble(parts, offset, length);
  }

  /** Makes a window start at or before `offset` (of a read no longer than a window), and fetches the one after it. */
  private advance(source: Blob, offset: number, fetch: RangeFetch): void {
    // Windows the stream has passed, or a stream that jumped elsewhere, are let go.
    if (this.current && this.current.end <= offset) {
      this.current = this.next;
      this.next = null;
    }
    const c = this.current;
    if (c && (offset < c.start || offset >= c.end)) {
      this.current = null;
      this.next = null;
    }
    if (!this.current) this.current = this.open(source, offset, fetch);
    // windowSize ≥ the read, so the current window and the next one cover it.
    if (!this.next && this.current.end < source.size) this.next = this.open(source, this.current.end, fetch);
  }

  private open(source: Blob, start: number, fetch: RangeFetch): Window {
    const end = Math.min(source.size, start + this.windowSize);
    const w: Window = { source, start, end, bytes: fetch(start, end - start) };
    this.counts.windows++;
    // A failed window is forgotten so a later read tries the source again; the reads waiting on
    // it get the failure. Nobody may be waiting on a window fetched ahead: that must not go unhandled.
    w.bytes.catch(() => {
      if (this.current === w) this.current = null;
      if (this.next === w) this.next = null;
    });
    return w;
  }

  /** The windows holding all of [offset, end), in order, or null if they do not. */
  private covering(offset: number, end: number): Window[] | null {
    const parts: Window[] = [];
    let at = offset;
    for (const w of [this.current, this.next]) {
      if (!w || at >= end) break;
      if (at < w.start || at >= w.end) continue;
      parts.push(w);
      at = w.end;
    }
    return at >= end ? parts : null;
  }
}

async function assemble(parts: Window[], offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const end = offset + length;
  for (const w of parts) {
    const bytes = await w.bytes;
    const from = Math.max(offset, w.start);
    const to = Math.min(end, w.end);
    out.set(bytes.subarray(from - w.start, to - w.start), from - offset);
  }
  return out;
}
