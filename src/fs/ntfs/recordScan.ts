/**
 * The lean path of a whole listing: a file's entry completed from its MFT record's bytes without
 * building the record's attribute objects — the record header, $STANDARD_INFORMATION and the
 * unnamed $DATA's size, every attribute header checked as `parseMftRecord` checks it. It takes
 * only the common case; a record with an attribute list, a reparse point, alternate data streams,
 * a stale sequence number, a possible Interix symlink, or anything `parseMftRecord` would refuse,
 * is left to the full read (which also reports what is wrong).
 */
import type { FsEntry } from "../types";
import { AT_ATTRIBUTE_LIST, AT_DATA, AT_END, AT_REPARSE_POINT, AT_STANDARD_INFORMATION } from "./attribute";
import { filetime, u16, u32 } from "./bytes";
import { FILE_ATTRIBUTE_SYSTEM } from "./fileName";
import { STRIDE } from "./fixup";
import { RECORD_IN_USE, RECORD_IS_DIRECTORY } from "./mftRecord";
import { decodeRunlist } from "./runlist";

/** A 64-bit field below 2^53, or -1. */
function u53(b: Uint8Array, at: number): number {
  const hi = u32(b, at + 4);
  return hi >= 0x200000 ? -1 : hi * 0x100000000 + u32(b, at);
}

/** Fixups of `rec` applied in place, as `applyFixups` applies them; false where it would throw. */
function fixedUp(rec: Uint8Array): boolean {
  const usaOffset = u16(rec, 4);
  const usaCount = u16(rec, 6);
  const strides = rec.length / STRIDE;
  if (usaCount !== strides + 1 || usaOffset + 2 * usaCount > rec.length || usaOffset < 8 || usaOffset & 1) return false;
  const usn = u16(rec, usaOffset);
  for (let i = 0; i < strides; i++) {
    const end = (i + 1) * STRIDE - 2;
    if (u16(rec, end) !== usn) return false;
    rec[end] = rec[usaOffset + 2 + 2 * i];
    rec[end + 1] = rec[usaOffset + 3 + 2 * i];
  }
  return true;
}

/**
 * Completes `e` (a listing's entry made from its index key, `ref` [record, "", sequence]) from
 * the record's stored bytes `raw`, using `scratch` (as long as a record) for the fixed-up copy.
 * Returns false, `e` untouched, where the full read must decide.
 */
export function completeFromRecord(e: FsEntry, raw: Uint8Array, scratch: Uint8Array, clusters: number): boolean {
  if (raw.length !== scratch.length || raw[0] !== 0x46 || raw[1] !== 0x49 || raw[2] !== 0x4c || raw[3] !== 0x45)
    return false;
  const rec = scratch;
  rec.set(raw);
  if (!fixedUp(rec)) return false;
  const first = u16(rec, 0x14);
  const used = u32(rec, 0x18);
  const flags = u16(rec, 0x16);
  if (first < 0x30 || first >= rec.length || used > rec.length || !(flags & RECORD_IN_USE)) return false;
  const ref = e.ref as readonly (number | string)[];
  const sequence = u16(rec, 0x10);
  if (sequence !== ref[2] && ref[2] !== 0) return false;
  /** Where the first $STANDARD_INFORMATION's value starts; -1 before one is met, -2 for one without a value. */
  let si = -1;
  let siLength = 0;
  let mainSize = -1;
  let at = first;
  const end = Math.min(used, rec.length);
  for (let n = 0; at + 4 <= end && n < 512; n++) {
    const type = u32(rec, at);
    if (type === AT_END) break;
    const length = u32(rec, at + 4);
    if (length < 24 || length & 7 || at + length > end) return false;
    const nameLength = rec[at + 9];
    if (nameLength && u16(rec, at + 10) + 2 * nameLength > length) return false;
    if (type === AT_ATTRIBUTE_LIST || type === AT_REPARSE_POINT) return false;
    let size: number;
    if (rec[at + 8] === 0) {
      size = u32(rec, at + 16);
      const voff = u16(rec, at + 20);
      if (voff + size > length) return false;
      if (type === AT_STANDARD_INFORMATION && si === -1) {
        si = at + voff;
        siLength = size;
      }
      if (type === AT_DATA && nameLength === 0 && mainSize < 0) mainSize = size;
    } else {
      if (length < 64) return false;
      const lowestVcn = u53(rec, at + 16);
      size = u53(rec, at + 48);
      if (lowestVcn < 0 || u53(rec, at + 24) < 0 || size < 0 || u53(rec, at + 40) < 0 || u53(rec, at + 56) < 0)
        return false;
      const runOffset = u16(rec, at + 32);
      if (runOffset > length) return false;
      try {
        decodeRunlist(rec.subarray(at, at + length), runOffset, length, lowestVcn, clusters, 0);
      } catch {
        return false;
      }
      if (type === AT_DATA && nameLength === 0 && lowestVcn === 0 && mainSize < 0) mainSize = size;
      // The first $STANDARD_INFORMATION is the one read, and a non-resident one gives no value.
      if (type === AT_STANDARD_INFORMATION && si === -1) si = -2;
    }
    // A named stream with its first piece here: an entry of its own, which the full read makes.
    if (type === AT_DATA && nameLength !== 0) return false;
    at += length;
  }
  if (si >= 0 && siLength < 0x20) return false;
  const isDir = (flags & RECORD_IS_DIRECTORY) !== 0;
  const attributes = si >= 0 && siLength >= 0x24 ? u32(rec, si + 0x20) : (e.attributes ?? 0);
  const size = mainSize < 0 ? 0 : mainSize;
  // A system file of 8 to 8192 bytes may be an Interix symlink, which only its data tells.
  if (!isDir && attributes & FILE_ATTRIBUTE_SYSTEM && size >= 8 && size <= 8192) return false;
  e.type = isDir ? "dir" : "file";
  e.size = isDir ? 0 : size;
  if (si >= 0) {
    e.ctime = filetime(rec, si);
    e.mtime = filetime(rec, si + 8);
    e.atime = filetime(rec, si + 0x18);
  }
  e.attributes = attributes;
  e.links = u16(rec, 0x12);
  e.ref = [ref[0], "", sequence];
  e.partial = undefined;
  return true;
}
