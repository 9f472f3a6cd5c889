/**
 * Block group descriptors (Documentation/filesystems/ext4/group_descr.rst): 32 bytes, or
 * s_desc_size (64) with the 64bit feature, in the blocks after a superblock — or, with meta_bg,
 * one descriptor block at the start of each meta block group.
 */
import { crc16, ext4Checksum, le32 } from "./checksum";
import { type Superblock, groupHasSuper, INCOMPAT_META_BG } from "./superblock";

export const BG_INODE_UNINIT = 0x1;
export const BG_BLOCK_UNINIT = 0x2;
/** bg_checksum's place in every descriptor. */
const BG_CHECKSUM = 0x1e;

export interface GroupDescriptor {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocksCount: number;
  freeInodesCount: number;
  usedDirsCount: number;
  flags: number;
  blockBitmapCsum: number;
  inodeBitmapCsum: number;
  itableUnused: number;
  checksum: number;
}

/** Decodes one descriptor; `bytes` is s_desc_size long (32 without 64bit). */
export function parseGroupDescriptor(bytes: Uint8Array): GroupDescriptor {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const wide = bytes.length >= 64;
  const lohi32 = (lo: number, hi: number) => v.getUint32(lo, true) + (wide ? v.getUint32(hi, true) * 2 ** 32 : 0);
  const lohi16 = (lo: number, hi: number) => v.getUint16(lo, true) + (wide ? v.getUint16(hi, true) * 65536 : 0);
  return {
    blockBitmap: lohi32(0x0, 0x20),
    inodeBitmap: lohi32(0x4, 0x24),
    inodeTable: lohi32(0x8, 0x28),
    freeBlocksCount: lohi16(0xc, 0x2c),
    freeInodesCount: lohi16(0xe, 0x2e),
    usedDirsCount: lohi16(0x10, 0x30),
    flags: v.getUint16(0x12, true),
    blockBitmapCsum: lohi16(0x18, 0x38),
    inodeBitmapCsum: lohi16(0x1a, 0x3a),
    itableUnused: lohi16(0x1c, 0x32),
    checksum: v.getUint16(BG_CHECKSUM, true),
  };
}

/**
 * bg_checksum as it should read: with metadata_csum the low 16 bits of crc32c(seed, group,
 * descriptor with the field zeroed); with gdt_csum crc16(~0, UUID, group, descriptor without the
 * field). Undefined when neither feature is on.
 */
export function groupDescriptorChecksum(
  bytes: Uint8Array,
  group: number,
  opts: { metadataCsum: boolean; gdtCsum: boolean; seed: number; uuid: Uint8Array },
): number | undefined {
  if (opts.metadataCsum) {
    const copy = bytes.slice();
    copy[BG_CHECKSUM] = 0;
    copy[BG_CHECKSUM + 1] = 0;
    return ext4Checksum(ext4Checksum(opts.seed, le32(group)), copy) & 0xffff;
  }
  if (opts.gdtCsum) {
    let c = crc16(0xffff, opts.uuid);
    c = crc16(c, le32(group));
    c = crc16(c, bytes.subarray(0, BG_CHECKSUM));
    return crc16(c, bytes.subarray(BG_CHECKSUM + 2));
  }
  return undefined;
}

/** The first block of block group `group`. */
export function groupFirstBlock(sb: Superblock, group: number): number {
  return sb.firstDataBlock + group * sb.blocksPerGroup;
}

/**
 * The block that holds descriptor block `index` (block_group.rst "Meta Block Groups"): after the
 * superblock at `sbBlock` for the classic layout and for meta groups before s_first_meta_bg; else
 * the first block (after a superblock backup, if any) of the meta block group's first group.
 */
export function descriptorBlock(sb: Superblock, sbBlock: number, descPerBlock: number, index: number): number {
  if (!(sb.featureIncompat & INCOMPAT_META_BG) || index < sb.firstMetaBg) return sbBlock + 1 + index;
  const group = index * descPerBlock;
  return groupFirstBlock(sb, group) + (groupHasSuper(sb, group) ? 1 : 0);
}

/** How many blocks the classic descriptor table takes after each superblock copy. */
export function classicTableBlocks(sb: Superblock, groupCount: number, descPerBlock: number): number {
  const total = Math.ceil(groupCount / descPerBlock);
  return sb.featureIncompat & INCOMPAT_META_BG ? Math.min(total, sb.firstMetaBg) : total;
}
