/**
 * exFAT directory entries (§6, §7): 32 bytes each; EntryType's bit 7 is InUse, bit 6 the
 * category (primary or secondary), bits 0–4 the code. A file is an entry set: a File entry, a
 * Stream Extension and File Name entries, guarded by SetChecksum (§6.3.3).
 */
import type { FsFinding } from "../types";

export const ENTRY_SIZE = 32;
export const TYPE_END = 0x00;
export const TYPE_ALLOCATION_BITMAP = 0x81;
export const TYPE_UPCASE_TABLE = 0x82;
export const TYPE_VOLUME_LABEL = 0x83;
export const TYPE_FILE = 0x85;
export const TYPE_VOLUME_GUID = 0xa0;
export const TYPE_STREAM_EXTENSION = 0xc0;
export const TYPE_FILE_NAME = 0xc1;

export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;

/** §6.3.3: SetChecksum over every byte of the set but the checksum field itself. */
export function entrySetChecksum(set: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < set.length; i++) {
    if (i === 2 || i === 3) continue;
    sum = ((sum & 1 ? 0x8000 : 0) + (sum >>> 1) + set[i]) & 0xffff;
  }
  return sum;
}

/** §7.6.4 timestamps: DOS fields, 10 ms increments, and a UTC offset in 15-minute steps. */
export function timestamp(ts: number, tenMs: number, utcOffset: number): { ms: number | null; local: boolean } {
  const sec = (ts & 0x1f) * 2;
  const min = (ts >>> 5) & 0x3f;
  const hour = (ts >>> 11) & 0x1f;
  const day = (ts >>> 16) & 0x1f;
  const month = (ts >>> 21) & 0xf;
  const year = 1980 + ((ts >>> 25) & 0x7f);
  if (ts === 0 || day < 1 || month < 1 || month > 12 || hour > 23 || min > 59 || sec > 59)
    return { ms: null, local: false };
  const local = Date.UTC(year, month - 1, day, hour, min, sec) + Math.min(tenMs, 199) * 10;
  if (utcOffset & 0x80) {
    // Seven-bit two's complement, in 15-minute increments east of UTC.
    const steps = utcOffset & 0x40 ? (utcOffset & 0x7f) - 0x80 : utcOffset & 0x7f;
    return { ms: local - steps * 15 * 60_000, local: false };
  }
  return { ms: local, local: true };
}

/** One decoded file or directory entry set. */
export interface EntrySet {
  name: string;
  attributes: number;
  isDirectory: boolean;
  firstCluster: number;
  dataLength: number;
  validDataLength: number;
  noFatChain: boolean;
  mtime: number | null;
  ctime: number | null;
  atime: number | null;
  timesLocal: boolean;
  /** Byte offset of the File entry in its directory's data. */
  offset: number;
  findings: FsFinding[];
}

const u16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
export function u64(b: Uint8Array, at: number): number {
  return u32(b, at + 4) * 0x100000000 + u32(b, at);
}

/**
 * Decodes the entry set that starts at `at` of `dir` (a File entry), or reports why it cannot.
 * `deviceOffset` is where `dir[0]` lies on the volume, for findings.
 */
export function decodeEntrySet(
  dir: Uint8Array,
  at: number,
  deviceOffset: number,
  nameHash?: (name: string) => number,
): { set: EntrySet | null; length: number; finding?: FsFinding } {
  const secondaryCount = dir[at + 1];
  const length = (1 + secondaryCount) * ENTRY_SIZE;
  const where = deviceOffset + at;
  const bad = (message: string): { set: null; length: number; finding: FsFinding } => ({
    set: null,
    length: ENTRY_SIZE,
    finding: { severity: "error", code: "EXFAT_ENTRY_SET", message, structure: "file entry set", offset: where },
  });
  if (secondaryCount < 2 || secondaryCount > 18)
    return bad(`a File entry with ${secondaryCount} secondary entries (2–18)`);
  if (at + length > dir.length) return bad("an entry set that runs past the end of its directory");
  const set = dir.subarray(at, at + length);
  if (set[32] !== TYPE_STREAM_EXTENSION) return bad("a File entry not followed by a Stream Extension");
  const findings: FsFinding[] = [];
  if (entrySetChecksum(set) !== u16(set, 2)) {
    findings.push({
      severity: "error",
      code: "EXFAT_SET_CHECKSUM",
      message: `SetChecksum 0x${u16(set, 2).toString(16)} does not match the entry set (0x${entrySetChecksum(set).toString(16)})`,
      structure: "file entry set",
      offset: where,
    });
  }
  const nameLength = set[32 + 3];
  const units: number[] = [];
  for (let e = 2; e <= secondaryCount && units.length < nameLength; e++) {
    const o = e * ENTRY_SIZE;
    if (set[o] !== TYPE_FILE_NAME)
      return bad(`secondary entry ${e} is 0x${set[o].toString(16)}, not a File Name entry`);
    for (let i = 0; i < 15 && units.length < nameLength; i++) units.push(u16(set, o + 2 + 2 * i));
  }
  if (units.length < nameLength) return bad(`NameLength ${nameLength} is longer than its File Name entries hold`);
  const name = String.fromCharCode(...units);
  if (nameHash && nameHash(name) !== u16(set, 32 + 4)) {
    findings.push({
      severity: "warning",
      code: "EXFAT_NAME_HASH",
      message: `NameHash of "${name}" does not match its up-cased name`,
      structure: "stream extension",
      offset: where + 32,
    });
  }
  const flags = set[32 + 1];
  const validDataLength = u64(set, 32 + 8);
  const dataLength = u64(set, 32 + 24);
  if (validDataLength > dataLength) {
    findings.push({
      severity: "error",
      code: "EXFAT_VALID_DATA_LENGTH",
      message: `ValidDataLength ${validDataLength} is past DataLength ${dataLength}`,
      structure: "stream extension",
      offset: where + 32 + 8,
    });
  }
  const attributes = u16(set, 4);
  const m = timestamp(u32(set, 12), set[21], set[23]);
  const c = timestamp(u32(set, 8), set[20], set[22]);
  const a = timestamp(u32(set, 16), 0, set[24]);
  return {
    length,
    set: {
      name,
      attributes,
      isDirectory: (attributes & ATTR_DIRECTORY) !== 0,
      firstCluster: u32(set, 32 + 20),
      dataLength,
      validDataLength: Math.min(validDataLength, dataLength),
      noFatChain: (flags & 2) !== 0,
      mtime: m.ms,
      ctime: c.ms,
      atime: a.ms,
      timesLocal: m.local,
      offset: at,
      findings,
    },
  };
}

export { u16, u32 };
