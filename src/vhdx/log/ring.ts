import { MemoryBackend, RandomAccess } from "../io";

/** Bytes of the log region held in memory at once, whatever LogLength says. */
export const LOG_WINDOW = 1024 * 1024;
const SECTOR = 4096;

/**
 * §2.3: the log is a circular buffer. A LogRing reads the log region through a window of at most
 * LOG_WINDOW bytes and hands out byte ranges that may run past the end of the region and continue
 * at its start. When the file ends inside the log region, the missing part reads as zeros.
 * Longer ranges (an entry's checksum) are streamed with `forEachChunk`, never held whole.
 */
export class LogRing {
  /** LogLength from the header: positions wrap modulo this. */
  readonly size: number;
  /** Bytes of the region the file holds (the rest reads as zeros). */
  private readonly readable: number;
  private windowStart = -1;
  private window: Uint8Array = new Uint8Array(0);
  private buffer: Uint8Array = new Uint8Array(0);
  /** Window loads so far (tests count them to prove the scan is streamed). */
  loads = 0;

  private constructor(
    private readonly io: RandomAccess,
    private readonly logOffset: number,
    size: number,
    readable: number,
  ) {
    if (size <= 0 || !Number.isSafeInteger(size)) throw new RangeError(`log size must be positive, not ${size}`);
    this.size = size;
    this.readable = Math.max(0, Math.min(size, readable));
  }

  /** The log region of `io` at `logOffset`, `logLength` bytes long; the file's size bounds what is read. */
  static async over(io: RandomAccess, logOffset: number, logLength: number): Promise<LogRing> {
    return new LogRing(io, logOffset, logLength, (await io.size()) - logOffset);
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
    // One buffer reused for every window when the backend reads into it: views handed out are
    // only valid until the next read, which every caller respects (parsers copy what they keep).
    if (this.buffer.length !== len) this.buffer = new Uint8Array(len);
    this.window = this.buffer;
    if (have > 0 && this.io.readInto) await this.io.readInto(this.logOffset + ws, this.window.subarray(0, have));
    else if (have > 0) this.window.set(await this.io.read(this.logOffset + ws, have));
    this.window.fill(0, Math.max(0, have));
    this.windowStart = ws;
    this.loads++;
  }
}
