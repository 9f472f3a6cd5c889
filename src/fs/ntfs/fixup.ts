/**
 * Update sequence arrays ("fixups"): a multi-sector record (FILE, INDX) keeps the last two bytes
 * of each 512-byte stride in an array and writes the update sequence number in their place; a
 * stride whose last bytes are not that number was torn by an interrupted write.
 */
import { FsError } from "../errors";
import { u16 } from "./bytes";

export const STRIDE = 512;

/** Checks and applies the record's fixups in place. */
export function applyFixups(rec: Uint8Array, structure: string, offset: number): void {
  const usaOffset = u16(rec, 4);
  const usaCount = u16(rec, 6);
  const strides = rec.length / STRIDE;
  if (usaCount !== strides + 1 || usaOffset + 2 * usaCount > rec.length || usaOffset < 8 || usaOffset & 1) {
    throw new FsError(
      "FS_CORRUPT",
      `an update sequence array of ${usaCount} entries at ${usaOffset} does not fit a ${rec.length}-byte record`,
      structure,
      offset + 4,
    );
  }
  const usn = u16(rec, usaOffset);
  for (let i = 0; i < strides; i++) {
    const end = (i + 1) * STRIDE - 2;
    if (u16(rec, end) !== usn) {
      throw new FsError(
        "FS_CORRUPT",
        `sector ${i} does not end with the update sequence number (a torn write)`,
        structure,
        offset + end,
      );
    }
    rec[end] = rec[usaOffset + 2 + 2 * i];
    rec[end + 1] = rec[usaOffset + 3 + 2 * i];
  }
}
