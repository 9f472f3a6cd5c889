/** Little-endian fields of NTFS structures; 64-bit values past 2^53 are refused, not rounded. */
import { FsError } from "../errors";

export const u16 = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8);
export const u32 = (b: Uint8Array, at: number): number =>
  (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

export function u64(b: Uint8Array, at: number, structure: string, offset = 0): number {
  const hi = u32(b, at + 4);
  if (hi >= 0x200000) throw new FsError("FS_CORRUPT", `a 64-bit field holds a value past 2^53`, structure, offset + at);
  return hi * 0x100000000 + u32(b, at);
}

/** An MFT reference: the record number (48 bits) and its sequence number (16 bits). */
export function fileReference(b: Uint8Array, at: number): { record: number; sequence: number } {
  return { record: u32(b, at) + u16(b, at + 4) * 0x100000000, sequence: u16(b, at + 6) };
}

/** Code units gathered for one `String.fromCharCode` call (a string built by `+=` is a chain of pieces to flatten later). */
const units16: number[] = [];

export function utf16(b: Uint8Array, at: number, units: number): string {
  if (units > 4096) {
    let s = "";
    for (let i = 0; i < units; i += 4096) s += utf16(b, at + 2 * i, Math.min(4096, units - i));
    return s;
  }
  units16.length = units;
  for (let i = 0; i < units; i++) units16[i] = b[at + 2 * i] | (b[at + 2 * i + 1] << 8);
  return String.fromCharCode.apply(null, units16);
}

/** FILETIME (100 ns since 1601-01-01 UTC) as ms since 1970, or null for 0. */
export function filetime(b: Uint8Array, at: number): number | null {
  const lo = u32(b, at);
  const hi = u32(b, at + 4);
  if (lo === 0 && hi === 0) return null;
  return (hi * 0x100000000 + lo) / 10_000 - 11_644_473_600_000;
}
