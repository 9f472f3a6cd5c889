import { VhdxError } from "./errors";

/** Size units used throughout the format. */
export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Reads a little-endian u64 as a number. Values at or above 2^53 cannot be represented exactly:
 * they are rejected with an error naming the structure and file offset.
 */
export function readU64(dv: DataView, at: number, structure: string, fileOffset: number): number {
  return u64Of(dv.getUint32(at + 4, true), dv.getUint32(at, true), structure, fileOffset + at);
}

/** A u64 from its two 32-bit halves (either byte order's), refused at 2^53 and above. */
export function u64Of(hi: number, lo: number, structure: string, fileOffset: number): number {
  if (hi >= 0x200000) {
    throw new VhdxError(
      "OUT_OF_RANGE",
      `64-bit value 0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")} is too large (limit 2^53)`,
      structure,
      fileOffset,
    );
  }
  return hi * 0x100000000 + lo;
}

/** Reads a u64 as a bigint, for fields such as sequence numbers that may use all 64 bits. */
export function readU64Big(dv: DataView, at: number): bigint {
  return dv.getBigUint64(at, true);
}

export function writeU64(dv: DataView, at: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u64: ${value}`);
  dv.setUint32(at, value % 0x100000000, true);
  dv.setUint32(at + 4, Math.floor(value / 0x100000000), true);
}

/**
 * A host's native byte comparison, where it has one: Node's Buffer.compare is a memcmp, several
 * times faster than any loop here on the long zero runs of a sparse disk. Found by feature
 * detection, so the engine imports nothing and runs unchanged where there is no Buffer.
 */
const nativeCompare = (globalThis as { Buffer?: { compare(a: Uint8Array, b: Uint8Array): number } }).Buffer?.compare;
export function isAllZero(b: Uint8Array): boolean {
  const n = b.length;
  // The first word decides most non-zero ranges at once.
  if (n >= 8 && (b[0] | b[n >>> 1] | b[n - 1]) !== 0) return false;
  if (nativeCompare && n >= 4 * KiB) {
    // Every byte equals the next and the first is zero: one pass over one buffer, where a
    // comparison against a zero buffer would stream two.
    return b[0] === 0 && nativeCompare(b.subarray(0, n - 1), b.subarray(1)) === 0;
  }
  return scanAllZero(b);
}

/** Whether `a` and `b` hold the same bytes (natively where the host can: see isAllZero). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (nativeCompare && a.length >= 4 * KiB) return nativeCompare(a, b) === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** isAllZero without the native comparison: the path taken where the host has none (browsers). */
export function scanAllZero(b: Uint8Array): boolean {
  const n = b.length;
  let i = 0;
  // Compare 4 bytes at a time where alignment allows.
  if ((b.byteOffset & 3) === 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset, n >>> 2);
    // Eight words OR-ed per test: half the time of one test per word on long zero runs.
    const m = w.length & ~7;
    let k = 0;
    for (; k < m; k += 8) {
      if ((w[k] | w[k + 1] | w[k + 2] | w[k + 3] | w[k + 4] | w[k + 5] | w[k + 6] | w[k + 7]) !== 0) return false;
    }
    for (; k < w.length; k++) if (w[k] !== 0) return false;
    i = w.length << 2;
  }
  for (; i < n; i++) if (b[i] !== 0) return false;
  return true;
}

export function ascii(b: Uint8Array, at: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[at + i]);
  return s;
}

/** Decodes UTF-16LE up to the first NUL (or the end). */
export function utf16le(b: Uint8Array, at: number, len: number): string {
  let s = "";
  for (let i = 0; i + 1 < len; i += 2) {
    const c = b[at + i] | (b[at + i + 1] << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

export function encodeUtf16le(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i * 2] = c & 0xff;
    out[i * 2 + 1] = c >>> 8;
  }
  return out;
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export function isMultiple(n: number, a: number): boolean {
  return n % a === 0;
}
