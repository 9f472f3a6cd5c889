/** $ATTRIBUTE_LIST entries: which record holds each attribute (or piece of one) of a file whose attributes span records. */
import { FsError } from "../errors";
import { fileReference, u16, u32, u64, utf16 } from "./bytes";

export interface AttributeListEntry {
  type: number;
  name: string;
  lowestVcn: number;
  record: number;
  id: number;
}

export function parseAttributeList(v: Uint8Array, offset: number): AttributeListEntry[] {
  const out: AttributeListEntry[] = [];
  for (let at = 0; at + 0x1a <= v.length;) {
    const length = u16(v, at + 4);
    const nameLength = v[at + 6];
    const nameOffset = v[at + 7];
    if (length < 0x1a || at + length > v.length || (nameLength && nameOffset + 2 * nameLength > length)) {
      throw new FsError(
        "FS_CORRUPT",
        `an attribute list entry of ${length} bytes that does not fit`,
        "$ATTRIBUTE_LIST",
        offset + at,
      );
    }
    out.push({
      type: u32(v, at),
      name: nameLength ? utf16(v, at + nameOffset, nameLength) : "",
      lowestVcn: u64(v, at + 8, "$ATTRIBUTE_LIST", offset),
      record: fileReference(v, at + 0x10).record,
      id: u16(v, at + 0x18),
    });
    at += length;
  }
  return out;
}
