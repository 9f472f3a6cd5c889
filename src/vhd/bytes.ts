/** Big-endian fields of the VHD format (every VHD structure is big-endian). */
import { ascii, u64Of } from "../vhdx/bytes";

export { view } from "../vhdx/bytes";

/** A big-endian u64 as a number; 0xFFFF_FFFF_FFFF_FFFF (the format's "none") reads as -1. */
export function readU64BE(dv: DataView, at: number, structure: string, fileOffset: number): number {
  const hi = dv.getUint32(at, false);
  const lo = dv.getUint32(at + 4, false);
  if (hi === 0xffffffff && lo === 0xffffffff) return -1;
  return u64Of(hi, lo, structure, fileOffset + at);
}

/** Writes a big-endian u64; -1 writes 0xFFFF_FFFF_FFFF_FFFF. */
export function writeU64BE(dv: DataView, at: number, value: number): void {
  if (value === -1) {
    dv.setUint32(at, 0xffffffff, false);
    dv.setUint32(at + 4, 0xffffffff, false);
    return;
  }
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u64: ${value}`);
  dv.setUint32(at, Math.floor(value / 0x100000000), false);
  dv.setUint32(at + 4, value % 0x100000000, false);
}

/** The four-character codes (creator application, host OS, platform codes) as text. */
export function fourCC(b: Uint8Array, at: number): string {
  return ascii(b, at, 4);
}

export function writeFourCC(b: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < 4; i++) b[at + i] = i < s.length ? s.charCodeAt(i) & 0xff : 0;
}

/**
 * The checksum of the footer and of the dynamic disk header: the one's complement of the sum of
 * every byte of the structure, the checksum field itself (4 bytes at `checksumAt`) left out.
 */
export function onesComplementChecksum(b: Uint8Array, checksumAt: number): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) if (i < checksumAt || i >= checksumAt + 4) sum += b[i];
  return ~sum >>> 0;
}

/** A GUID stored big-endian (as the VHD format stores them), in the usual text form. */
export function readGuidBE(b: Uint8Array, at: number): string {
  const h = Array.from(b.subarray(at, at + 16), (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function writeGuidBE(b: Uint8Array, at: number, guid: string): void {
  const h = guid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new RangeError(`not a GUID: ${guid}`);
  for (let i = 0; i < 16; i++) b[at + i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
}

/** VHD time stamps count seconds from January 1, 2000 00:00:00 UTC. */
export const VHD_EPOCH_MS = Date.UTC(2000, 0, 1);

export function vhdTimeToIso(t: number): string {
  return new Date(VHD_EPOCH_MS + t * 1000).toISOString();
}

export function vhdTimeNow(): number {
  return Math.max(0, Math.floor((Date.now() - VHD_EPOCH_MS) / 1000)) >>> 0;
}
