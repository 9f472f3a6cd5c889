/**
 * The Block Allocation Table of a dynamic or differencing disk: one big-endian u32 per block, the
 * sector (512-byte units) where the block's sector bitmap starts, or 0xFFFFFFFF when the block is
 * not in the file.
 */
import { hex, VhdxError } from "../vhdx/errors";

export const BAT_ENTRY_UNUSED = 0xffffffff;

export class VhdBat {
  /** Entries as host-order numbers, one per block. */
  constructor(readonly entries: Uint32Array) {}

  get length(): number {
    return this.entries.length;
  }

  /** The block's file offset (its sector bitmap), or -1 when the block is not in the file. */
  blockOffset(block: number): number {
    const e = this.entries[block];
    return e === BAT_ENTRY_UNUSED || e === undefined ? -1 : e * 512;
  }
}

export function parseBat(b: Uint8Array, count: number): VhdBat {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const entries = new Uint32Array(count);
  for (let i = 0; i < count; i++) entries[i] = dv.getUint32(i * 4, false);
  return new VhdBat(entries);
}

/** The table's bytes, padded to a whole 512-byte sector with unused entries. */
export function serializeBat(bat: VhdBat): Uint8Array {
  const size = Math.ceil((bat.length * 4) / 512) * 512;
  const b = new Uint8Array(size).fill(0xff);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < bat.length; i++) dv.setUint32(i * 4, bat.entries[i], false);
  return b;
}

/**
 * Checks the table's place against the file (it must end before the footer at the end) and the
 * number of entries against the disk's size; returns how many entries the disk uses.
 */
export function checkBatPlacement(
  tableOffset: number,
  maxTableEntries: number,
  blockSize: number,
  currentSize: number,
  fileSize: number,
  headerOffset: number,
): number {
  const used = Math.ceil(currentSize / blockSize);
  if (maxTableEntries < used)
    throw new VhdxError(
      "VHD_BAT_INVALID",
      `the BAT has ${maxTableEntries} entries, too few for ${currentSize} bytes in blocks of ${blockSize} (${used} needed)`,
      "dynamic disk header",
      headerOffset + 28,
    );
  if (tableOffset < 0 || tableOffset % 512 !== 0 || tableOffset + used * 4 > fileSize)
    throw new VhdxError(
      "VHD_BAT_INVALID",
      `the BAT (${used} entries at ${hex(Math.max(0, tableOffset))}) does not lie inside the file (${hex(fileSize)} bytes)`,
      "dynamic disk header",
      headerOffset + 16,
    );
  return used;
}
