/** Attribute records of an MFT record: the common header, then the resident or non-resident part. */
import { FsError } from "../errors";
import { u16, u32, u64, utf16 } from "./bytes";
import { decodeRunlist, type Run } from "./runlist";

export const AT_STANDARD_INFORMATION = 0x10;
export const AT_ATTRIBUTE_LIST = 0x20;
export const AT_FILE_NAME = 0x30;
export const AT_VOLUME_NAME = 0x60;
export const AT_VOLUME_INFORMATION = 0x70;
export const AT_DATA = 0x80;
export const AT_INDEX_ROOT = 0x90;
export const AT_INDEX_ALLOCATION = 0xa0;
export const AT_BITMAP = 0xb0;
export const AT_REPARSE_POINT = 0xc0;
export const AT_END = 0xffffffff;

export const ATTR_FLAG_COMPRESSED = 0x0001;
export const ATTR_FLAG_ENCRYPTED = 0x4000;
export const ATTR_FLAG_SPARSE = 0x8000;

export interface Attribute {
  type: number;
  name: string;
  flags: number;
  id: number;
  /** Resident: the value itself. */
  value: Uint8Array | null;
  /** Non-resident: the runs of this record's piece, and the sizes (valid in the piece with lowestVcn 0). */
  runs: Run[];
  lowestVcn: number;
  highestVcn: number;
  compressionUnit: number;
  allocatedSize: number;
  dataSize: number;
  initializedSize: number;
  /** Where the record lies on the volume, for findings and owners. */
  recordOffset: number;
  /** Resident: where the value starts inside its record. */
  valueOffset: number;
}

/** Every attribute of a fixed-up record, in order, until the end marker or `usedSize`. */
export function parseAttributes(
  rec: Uint8Array,
  first: number,
  usedSize: number,
  clusters: number,
  recordOffset: number,
): Attribute[] {
  const out: Attribute[] = [];
  let at = first;
  const end = Math.min(usedSize, rec.length);
  for (let n = 0; at + 4 <= end && n < 512; n++) {
    const type = u32(rec, at);
    if (type === AT_END) return out;
    const length = u32(rec, at + 4);
    if (length < 24 || length & 7 || at + length > end) {
      throw new FsError(
        "FS_CORRUPT",
        `attribute 0x${type.toString(16)} of ${length} bytes does not fit the record`,
        "attribute header",
        recordOffset + at,
      );
    }
    const a = rec.subarray(at, at + length);
    const nonResident = a[8] !== 0;
    const nameLength = a[9];
    const nameOffset = u16(a, 10);
    if (nameLength && nameOffset + 2 * nameLength > length) {
      throw new FsError(
        "FS_CORRUPT",
        "an attribute name that runs past its attribute",
        "attribute header",
        recordOffset + at + 10,
      );
    }
    // Fields spelled out in each literal below: an object spread costs microseconds per attribute here.
    const name = nameLength ? utf16(a, nameOffset, nameLength) : "";
    const flags = u16(a, 12);
    const id = u16(a, 14);
    if (!nonResident) {
      const vlen = u32(a, 16);
      const voff = u16(a, 20);
      if (voff + vlen > length) {
        throw new FsError(
          "FS_CORRUPT",
          `a resident value of ${vlen} bytes at ${voff} runs past its attribute`,
          "attribute header",
          recordOffset + at + 16,
        );
      }
      out.push({
        type,
        name,
        flags,
        id,
        recordOffset,
        valueOffset: at + voff,
        value: a.subarray(voff, voff + vlen),
        runs: [],
        lowestVcn: 0,
        highestVcn: -1,
        compressionUnit: 0,
        allocatedSize: vlen,
        dataSize: vlen,
        initializedSize: vlen,
      });
    } else {
      if (length < 64)
        throw new FsError(
          "FS_CORRUPT",
          "a non-resident attribute shorter than its header",
          "attribute header",
          recordOffset + at,
        );
      const S = "attribute header";
      const lowestVcn = u64(a, 16, S, recordOffset + at);
      const highestVcn = u64(a, 24, S, recordOffset + at);
      const runOffset = u16(a, 32);
      const dataSize = u64(a, 48, S, recordOffset + at);
      const initializedSize = u64(a, 56, S, recordOffset + at);
      if (runOffset > length)
        throw new FsError("FS_CORRUPT", "a runlist offset past its attribute", S, recordOffset + at + 32);
      out.push({
        type,
        name,
        flags,
        id,
        recordOffset,
        valueOffset: 0,
        value: null,
        runs: decodeRunlist(a, runOffset, length, lowestVcn, clusters, recordOffset + at),
        lowestVcn,
        highestVcn,
        compressionUnit: u16(a, 34),
        allocatedSize: u64(a, 40, S, recordOffset + at),
        dataSize,
        initializedSize: Math.min(initializedSize, dataSize),
      });
    }
    at += length;
  }
  return out;
}
