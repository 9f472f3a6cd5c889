/**
 * §2.3: the log is a circular buffer. A LogRing holds the log region's bytes (read once) and
 * hands out byte ranges that may run past the end of the region and continue at its start.
 * When the file ends inside the log region, the missing part reads as zeros.
 */
export class LogRing {
  /** LogLength from the header: positions wrap modulo this. */
  readonly size: number;
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, size: number) {
    if (size <= 0 || !Number.isSafeInteger(size)) throw new RangeError(`log size must be positive, not ${size}`);
    this.size = size;
    this.bytes = bytes.length > size ? bytes.subarray(0, size) : bytes;
  }

  /** `length` bytes from ring position `pos` (taken modulo the size), wrapping once. `length` must not exceed the size. */
  read(pos: number, length: number): Uint8Array {
    if (length > this.size) throw new RangeError(`cannot read ${length} bytes from a ${this.size}-byte log`);
    const start = pos % this.size;
    const end = start + length;
    if (end <= this.bytes.length) return this.bytes.subarray(start, end);
    const out = new Uint8Array(length);
    const first = Math.min(length, this.size - start);
    this.copyInto(out, 0, start, first);
    if (first < length) this.copyInto(out, first, 0, length - first);
    return out;
  }

  /** Wraps a position into [0, size). */
  wrap(pos: number): number {
    return pos % this.size;
  }

  private copyInto(out: Uint8Array, outAt: number, from: number, length: number): void {
    const avail = Math.max(0, Math.min(length, this.bytes.length - from));
    if (avail > 0) out.set(this.bytes.subarray(from, from + avail), outAt);
  }
}
