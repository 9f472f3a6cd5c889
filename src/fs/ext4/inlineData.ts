/**
 * Inline data (Documentation/filesystems/ext4/inlinedata.rst): a small file's bytes in i_block (60
 * bytes) and then in the value of the "system.data" extended attribute in the inode body
 * (attributes.rst: after i_extra_isize, a 4-byte magic and ext4_xattr_entry records, values
 * addressed from the first entry).
 */
import { FsError } from "../errors";
import { GOOD_OLD_INODE_SIZE, I_BLOCK, I_BLOCK_SIZE, type Inode } from "./inode";

export const EXT4_XATTR_MAGIC = 0xea020000;
export const EXT4_XATTR_INDEX_SYSTEM = 7;
/** ext4_xattr_entry without its name. */
const ENTRY_HEADER = 16;

export interface XattrEntry {
  nameIndex: number;
  name: string;
  /** Offset of the value within the on-disk inode. */
  valueOffset: number;
  valueSize: number;
  valueInum: number;
}

/** The in-inode extended attributes; [] when the inode body has none. */
export function parseInodeXattrs(raw: Uint8Array, extraIsize: number, structure: string, offset: number): XattrEntry[] {
  const start = GOOD_OLD_INODE_SIZE + extraIsize;
  if (raw.length <= GOOD_OLD_INODE_SIZE || start + 4 > raw.length) return [];
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  if (v.getUint32(start, true) !== EXT4_XATTR_MAGIC) return [];
  const first = start + 4;
  const out: XattrEntry[] = [];
  let at = first;
  // Each entry takes at least 16 bytes, so the walk ends within the inode.
  while (at + 4 <= raw.length && v.getUint32(at, true) !== 0) {
    if (at + ENTRY_HEADER > raw.length) break;
    const nameLen = raw[at];
    const entryEnd = at + ENTRY_HEADER + nameLen;
    const valueOffs = v.getUint16(at + 2, true);
    const valueInum = v.getUint32(at + 4, true);
    const valueSize = v.getUint32(at + 8, true);
    const valueOffset = first + valueOffs;
    if (entryEnd > raw.length || (valueInum === 0 && valueOffset + valueSize > raw.length)) {
      throw new FsError(
        "FS_CORRUPT",
        `${structure}: extended attribute entry at byte ${at} runs past the inode`,
        structure,
        offset + at,
      );
    }
    out.push({
      nameIndex: raw[at + 1],
      name: new TextDecoder().decode(raw.subarray(at + ENTRY_HEADER, entryEnd)),
      valueOffset,
      valueSize,
      valueInum,
    });
    at = (entryEnd + 3) & ~3;
  }
  return out;
}

/** A run of inline bytes and where it lies on the device. */
export interface InlinePiece {
  bytes: Uint8Array;
  deviceOffset: number;
}

/**
 * The inline file's bytes as two pieces (i_block, then the system.data value), cut to the
 * file's size; `inodeOffset` is the inode's place on the device.
 */
export function inlineDataPieces(inode: Inode, ino: number, inodeOffset: number): InlinePiece[] {
  const structure = `inode ${ino}`;
  const inBlock = Math.min(inode.size, I_BLOCK_SIZE);
  const pieces: InlinePiece[] = [{ bytes: inode.block.subarray(0, inBlock), deviceOffset: inodeOffset + I_BLOCK }];
  const rest = inode.size - inBlock;
  if (rest > 0) {
    const data = inlineDataXattr(inode, ino, inodeOffset);
    if (!data || data.valueSize < rest) {
      throw new FsError(
        "FS_CORRUPT",
        `${structure}: inline data of ${inode.size} bytes, but i_block and system.data hold ${inBlock + (data?.valueSize ?? 0)}`,
        structure,
        inodeOffset,
      );
    }
    pieces.push({
      bytes: inode.raw.subarray(data.valueOffset, data.valueOffset + rest),
      deviceOffset: inodeOffset + data.valueOffset,
    });
  }
  return pieces;
}

/** The "system.data" attribute of the inode body, if any. */
export function inlineDataXattr(inode: Inode, ino: number, inodeOffset: number): XattrEntry | undefined {
  const attrs = parseInodeXattrs(inode.raw, inode.extraIsize, `inode ${ino}`, inodeOffset);
  return attrs.find((a) => a.nameIndex === EXT4_XATTR_INDEX_SYSTEM && a.name === "data" && a.valueInum === 0);
}
