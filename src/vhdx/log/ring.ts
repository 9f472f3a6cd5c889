import { MemoryBackend, RandomAccess } from "../io";

/** Bytes of the log region held in memory at once, whatever LogLength says. */
export const LOG_WINDOW = 1024 * 1024;
const SECTOR = 4096;
/**
 * Logs at least this long ask the backend for the file's holes first and read only around them: a
 * 4 GiB log in a fresh, sparse image is all hole, and reading it costs seconds of copying zeros.
 * The lookup costs a process start on Node, more than reading a shorter log whole.
 */
export const HOLE_LOOKUP_MIN = 64 * LOG_WINDOW;

/** Ring positions [start, end). */
interface RingRange {
  start: number;
  end: number;
}

/**
 * §2.3: the log is a circular buffer. A LogRing reads the log region through a window of at most
 * LOG_WINDOW bytes and hands out byte ranges that may run past the end of the region and continue
 * at its start. When the file ends inside the log region, the missing part reads as zeros.
 * Longer ranges (an entry's checksum) are streamed with `forEachChunk`, never held whole.
 * Where the backend knows the file holds a hole (RandomAccess.knownZeroRanges), the window is
 * zeroed rather than read: a hole reads as zeros, and zeros never open an entry ("loge").
 */
export class LogRing {
  /** LogLength from the header: positions wrap modulo this. */
  readonly size: number;
  /** Bytes of the region the file holds (the rest reads as zeros). */
  private readonly readable: number;
  private windowStart = -1;
  private window: Uint8Array = new Uint8Array(0);
  private buffer: Uint8Array = new Uint8Array(0);
  /** The buffer holds only zeros (it was zeroed and nothing was read into it since). */
  private bufferZero = true;
  /** Window loads so far (tests count them to prove the scan is streamed). */
  loads = 0;
  /** Bytes read from the backend so far (tests count them to prove holes are skipped). */
  bytesRead = 0;

  private constructor(
    private readonly io: RandomAccess,
    private readonly logOffset: number,
    size: number,
    readable: number,
    /** Holes of the file inside the readable region, in ring positions: sorted, disjoint. */
    private readonly holes: readonly RingRange[] = [],
  ) {
    if (size <= 0 || !Number.isSafeInteger(size)) throw new RangeError(`log size must be positive, not ${size}`);
    this.size = size;
    this.readable = Math.max(0, Math.min(size, readable));
  }

  /**
   * The log region of `io` at `logOffset`, `logLength` bytes long; the file's size bounds what is
   * read. The holes are taken once: nothing writes into the log region while a ring reads it (a
   * replay's targets lie outside the log, §2.2.2 LogOffset, which validation checks).
   */
  static async over(io: RandomAccess, logOffset: number, logLength: number): Promise<LogRing> {
    const readable = Math.max(0, Math.min(logLength, (await io.size()) - logOffset));
    const known = logLength >= HOLE_LOOKUP_MIN && io.knownZeroRanges ? await io.knownZeroRanges() : [];
    return new LogRing(io, logOffset, logLength, readable, holesInRegion(known, logOffset, readable));
  }

  /** A ring over bytes in memory (tests, fixtures): `bytes` is the region's start, zeros after it. */
  static fromBytes(bytes: Uint8Array, size: number): LogRing {
    const held = bytes.length > size ? bytes.subarray(0, size) : bytes;
    return new LogRing(new MemoryBackend(held.slice()), 0, size, held.length);
  }

  /** Wraps a position into [0, size). */
  wrap(pos: number): number {
    return pos % this.size;
  }

  /**
   * `length` bytes from ring position `pos` (taken modulo the size), wrapping once. `length` must
   * not exceed the window; the bytes returned may be a view of the window, valid until the next read.
   */
  async read(pos: number, length: number): Promise<Uint8Array> {
    if (length > this.size) throw new RangeError(`cannot read ${length} bytes from a ${this.size}-byte log`);
    if (length > LOG_WINDOW) throw new RangeError(`a log read is at most ${LOG_WINDOW} bytes, not ${length}`);
    const start = pos % this.size;
    const inWindow = await this.viewAt(start, length);
    if (inWindow) return inWindow;
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = (start + done) % this.size;
      const n = Math.min(length - done, this.size - at, LOG_WINDOW - (at % LOG_WINDOW));
      out.set((await this.viewAt(at, n))!, done);
      done += n;
    }
    return out;
  }

  /** Streams `length` bytes from `pos` (wrapping once) to `fn` in pieces of at most the window size. */
  async forEachChunk(pos: number, length: number, fn: (chunk: Uint8Array) => void): Promise<void> {
    if (length > this.size) throw new RangeError(`cannot read ${length} bytes from a ${this.size}-byte log`);
    let done = 0;
    while (done < length) {
      const at = (pos + done) % this.size;
      const n = Math.min(length - done, this.size - at, LOG_WINDOW - (at % LOG_WINDOW));
      fn((await this.viewAt(at, n))!);
      done += n;
    }
  }

  /**
   * Ring positions in [from, from + LOG_WINDOW) — one window — whose 4 KiB sector opens with the
   * 4 bytes of `signature`, checked in the window without a read per sector.
   */
  async positionsWithSignature(from: number, signature: Uint8Array): Promise<number[]> {
    const n = Math.min(LOG_WINDOW, this.size - from);
    const w = (await this.viewAt(from, n))!;
    const out: number[] = [];
    for (let i = 0; i + signature.length <= n; i += SECTOR) {
      if (w[i] === signature[0] && w[i + 1] === signature[1] && w[i + 2] === signature[2] && w[i + 3] === signature[3])
        out.push(from + i);
    }
    return out;
  }

  /** The bytes [at, at+n) as a view of the window when they lie in one window, else null. */
  private async viewAt(at: number, n: number): Promise<Uint8Array | null> {
    const ws = at - (at % LOG_WINDOW);
    if (at + n > ws + LOG_WINDOW || at + n > this.size) return null;
    if (ws !== this.windowStart) await this.load(ws);
    return this.window.subarray(at - ws, at - ws + n);
  }

  private async load(ws: number): Promise<void> {
    const len = Math.min(LOG_WINDOW, this.size - ws);
    const have = Math.max(0, Math.min(len, this.readable - ws));
    // One buffer reused for every window: views handed out are only valid until the next read,
    // which every caller respects (parsers copy what they keep, none writes into a view).
    if (this.buffer.length !== len) {
      this.buffer = new Uint8Array(len);
      this.bufferZero = true;
    }
    this.window = this.buffer;
    const pieces = this.dataIn(ws, ws + have);
    const whole = pieces.length === 1 && pieces[0].start === ws && pieces[0].end === ws + len;
    // Whatever is not read (holes, past the end of the file) must read as zeros.
    if (!whole && !this.bufferZero) this.buffer.fill(0);
    for (const p of pieces) {
      const target = this.buffer.subarray(p.start - ws, p.end - ws);
      if (this.io.readInto) await this.io.readInto(this.logOffset + p.start, target);
      else target.set(await this.io.read(this.logOffset + p.start, target.length));
      this.bytesRead += target.length;
    }
    this.bufferZero = pieces.length === 0;
    this.windowStart = ws;
    this.loads++;
  }

  /** The parts of ring positions [from, to) that are not in a hole, in order. */
  private dataIn(from: number, to: number): RingRange[] {
    if (to <= from) return [];
    // The first hole ending after `from` (holes are sorted and disjoint, so their ends are too).
    let lo = 0;
    let hi = this.holes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.holes[mid].end <= from) lo = mid + 1;
      else hi = mid;
    }
    const out: RingRange[] = [];
    let at = from;
    for (let i = lo; i < this.holes.length && this.holes[i].start < to; i++) {
      const h = this.holes[i];
      if (h.start > at) out.push({ start: at, end: h.start });
      at = Math.max(at, h.end);
    }
    if (at < to) out.push({ start: at, end: to });
    return out;
  }
}

/**
 * File ranges known to read as zeros, as ring positions inside [0, readable): clipped to the log
 * region, or none at all unless they are sorted and disjoint as RandomAccess promises.
 */
function holesInRegion(known: readonly RingRange[], logOffset: number, readable: number): RingRange[] {
  const out: RingRange[] = [];
  let prevEnd = -Infinity;
  for (const r of known) {
    if (!(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.start >= prevEnd && r.end > r.start))
      return [];
    prevEnd = r.end;
    const start = Math.max(0, r.start - logOffset);
    const end = Math.min(readable, r.end - logOffset);
    if (end > start) out.push({ start, end });
  }
  return out;
}
