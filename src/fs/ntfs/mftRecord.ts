/** MFT records ("FILE"): the header, fixups applied, and the attributes they hold. */
import { FsError } from "../errors";
import { fileReference, u16, u32 } from "./bytes";
import { applyFixups } from "./fixup";
import { parseAttributes, type Attribute } from "./attribute";

export const RECORD_IN_USE = 0x1;
export const RECORD_IS_DIRECTORY = 0x2;

export interface MftRecord {
  number: number;
  sequence: number;
  links: number;
  flags: number;
  /** The base record's number when this is an extension record; 0 for a base record. */
  baseRecord: number;
  attributes: Attribute[];
}

export function parseMftRecord(raw: Uint8Array, number: number, clusters: number, offset: number): MftRecord {
  const S = `MFT record ${number}`;
  if (raw[0] !== 0x46 || raw[1] !== 0x49 || raw[2] !== 0x4c || raw[3] !== 0x45) {
    throw new FsError("FS_CORRUPT", `MFT record ${number} does not start with "FILE"`, S, offset);
  }
  const rec = raw.slice();
  applyFixups(rec, S, offset);
  const first = u16(rec, 0x14);
  const used = u32(rec, 0x18);
  if (first < 0x30 || first >= rec.length || used > rec.length) {
    throw new FsError(
      "FS_CORRUPT",
      `attributes at ${first}, ${used} bytes used: outside the ${rec.length}-byte record`,
      S,
      offset + 0x14,
    );
  }
  return {
    number,
    sequence: u16(rec, 0x10),
    links: u16(rec, 0x12),
    flags: u16(rec, 0x16),
    baseRecord: fileReference(rec, 0x20).record,
    attributes: parseAttributes(rec, first, used, clusters, offset),
  };
}
