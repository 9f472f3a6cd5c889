/**
 * FAT directory entries (32 bytes each): the short (8.3) entry with its NT lower-case flags, the
 * VFAT long-name entries before it (UTF-16, 13 units each, bound to the short entry by a
 * checksum of its name), the volume label entry, deleted entries (0xE5) and the end marker (0x00).
 */
import type { FsFinding } from "../types";

export const DIR_ENTRY_SIZE = 32;
export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
export const ATTR_LONG_NAME = 0x0f;
export const DELETED = 0xe5;
/** DIR_NTRes bits: the base name, the extension, stored upper case but shown lower case. */
export const NT_LOWER_BASE = 0x08;
export const NT_LOWER_EXT = 0x10;
export const LAST_LONG_ENTRY = 0x40;

/** Code page 437, bytes 0x80–0xFF: the OEM code page short names are read in. */
const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

export interface ShortEntry {
  /** DIR_Name as stored (11 bytes, 0x05 in the first byte meaning 0xE5). */
  rawName: Uint8Array;
  /** The 8.3 name decoded, with the NT lower-case flags applied. */
  name: string;
  attributes: number;
  ntRes: number;
  firstCluster: number;
  fileSize: number;
  /** DIR_WrtDate/DIR_WrtTime as UTC fields (FAT keeps local time), or null. */
  mtime: number | null;
  crtime: number | null;
  /** DIR_LstAccDate (a date only). */
  atime: number | null;
}

/** DIR_Name bytes [from, to) in the OEM code page, trailing spaces dropped; 0x05 first means 0xE5. */
function oemText(b: Uint8Array, from: number, to: number): string {
  while (to > from && b[to - 1] === 0x20) to--;
  let s = "";
  for (let i = from; i < to; i++) {
    const c = i === 0 && b[0] === 0x05 ? DELETED : b[i];
    s += c < 0x80 ? String.fromCharCode(c) : CP437_HIGH[c - 0x80];
  }
  return s;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A FAT date and time (and tenths of 10 ms) as milliseconds, the fields read as UTC; null when unset or invalid. */
export function fatTime(date: number, time: number, tenths = 0): number | null {
  if (date === 0) return null;
  const year = 1980 + (date >> 9);
  const month = (date >> 5) & 15;
  const day = date & 31;
  const h = time >> 11;
  const m = (time >> 5) & 63;
  const s = (time & 31) * 2;
  if (month < 1 || month > 12 || day < 1 || h > 23 || m > 59 || s > 59 || tenths > 199) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1] || (month === 2 && day === 29 && !leap)) return null;
  return Date.UTC(year, month - 1, day, h, m, s) + tenths * 10;
}

export function parseShortEntry(b: Uint8Array, at: number, fat32: boolean): ShortEntry {
  const u16 = (o: number) => b[at + o] | (b[at + o + 1] << 8);
  const rawName = b.slice(at, at + 11);
  const ntRes = b[at + 12];
  let base = oemText(rawName, 0, 8);
  let ext = oemText(rawName, 8, 11);
  if (ntRes & NT_LOWER_BASE) base = base.toLowerCase();
  if (ntRes & NT_LOWER_EXT) ext = ext.toLowerCase();
  return {
    rawName,
    name: ext ? `${base}.${ext}` : base,
    attributes: b[at + 11],
    ntRes,
    firstCluster: (fat32 ? u16(20) : 0) * 0x10000 + u16(26),
    fileSize: u16(28) + u16(30) * 0x10000,
    mtime: fatTime(u16(24), u16(22)),
    crtime: fatTime(u16(16), u16(14), b[at + 13]),
    atime: fatTime(u16(18), 0),
  };
}

/** The checksum of an 11-byte short name that each of its long-name entries carries. */
export function shortNameChecksum(rawName: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + rawName[i]) & 0xff;
  return sum & 0xff;
}

export interface LongEntry {
  /** LDIR_Ord without the last-entry bit: 1 for the entry holding the name's first 13 units. */
  ord: number;
  last: boolean;
  checksum: number;
  /** The 13 UTF-16 units, as stored. */
  units: number[];
}

const LFN_UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

export function parseLongEntry(b: Uint8Array, at: number): LongEntry {
  const units: number[] = [];
  for (const o of LFN_UNIT_OFFSETS) units.push(b[at + o] | (b[at + o + 1] << 8));
  return { ord: b[at] & 0x3f, last: (b[at] & LAST_LONG_ENTRY) !== 0, checksum: b[at + 13], units };
}

/** An entry of a directory as read: the short entry, the long name bound to it, its place. */
export interface DecodedEntry {
  name: string;
  short: ShortEntry;
  /** Device offset of the short entry. */
  offset: number;
  findings: FsFinding[];
}

/**
 * Decodes a directory's entries across the pieces it is read in (a long name may span two
 * clusters). `push` takes the next bytes and their device offset and returns the entries that
 * end in them; once the end marker is met, `ended` is set and nothing more is decoded.
 */
export class DirectoryDecoder {
  ended = false;
  /** The volume label entry's name, if one was met. */
  label: string | null = null;
  private lfn: LongEntry[] = [];
  private lfnOffset = 0;
  private expectOrd = 0;

  constructor(
    private readonly fat32: boolean,
    private readonly structure: string,
  ) {}

  push(bytes: Uint8Array, deviceOffset: number): DecodedEntry[] {
    const out: DecodedEntry[] = [];
    for (let at = 0; at + DIR_ENTRY_SIZE <= bytes.length && !this.ended; at += DIR_ENTRY_SIZE) {
      const first = bytes[at];
      if (first === 0x00) {
        this.ended = true;
        break;
      }
      if (first === DELETED) {
        this.lfn = [];
        continue;
      }
      const attr = bytes[at + 11];
      if ((attr & 0x3f) === ATTR_LONG_NAME) {
        this.long(parseLongEntry(bytes, at), deviceOffset + at);
        continue;
      }
      const short = parseShortEntry(bytes, at, this.fat32);
      const offset = deviceOffset + at;
      if (attr & ATTR_VOLUME_ID && !(attr & ATTR_DIRECTORY)) {
        if (this.label === null) this.label = short.name.replace(".", "").trimEnd();
        this.lfn = [];
        continue;
      }
      if (short.name === "." || short.name === "..") {
        this.lfn = [];
        continue;
      }
      out.push(this.bind(short, offset));
    }
    return out;
  }

  private long(e: LongEntry, offset: number): void {
    if (e.last) {
      this.lfn = [e];
      this.lfnOffset = offset;
      this.expectOrd = e.ord - 1;
      if (e.ord === 0) this.lfn = [];
      return;
    }
    const prev = this.lfn[this.lfn.length - 1];
    if (prev && e.ord === this.expectOrd && e.checksum === prev.checksum) {
      this.lfn.push(e);
      this.expectOrd--;
    } else this.lfn = [];
  }

  private bind(short: ShortEntry, offset: number): DecodedEntry {
    const findings: FsFinding[] = [];
    let name = short.name;
    if (this.lfn.length > 0) {
      const sum = shortNameChecksum(short.rawName);
      if (this.expectOrd !== 0) {
        findings.push({
          severity: "warning",
          code: "FAT_LFN_ORPHAN",
          message: `the long name before ${short.name} is incomplete (entry ${this.expectOrd} missing); the short name is shown`,
          structure: this.structure,
          offset: this.lfnOffset,
        });
      } else if (this.lfn[0].checksum !== sum) {
        findings.push({
          severity: "warning",
          code: "FAT_LFN_CHECKSUM",
          message: `the long name's checksum 0x${this.lfn[0].checksum.toString(16)} does not match ${short.name} (0x${sum.toString(16)}); the short name is shown`,
          structure: this.structure,
          offset: this.lfnOffset,
        });
      } else {
        const units: number[] = [];
        for (let i = this.lfn.length - 1; i >= 0; i--) units.push(...this.lfn[i].units);
        const end = units.indexOf(0);
        const n = end >= 0 ? end : units.length;
        let s = "";
        for (let i = 0; i < n; i++) s += String.fromCharCode(units[i]);
        if (s.length > 0) name = s;
      }
    }
    this.lfn = [];
    return { name, short, offset, findings };
  }
}
