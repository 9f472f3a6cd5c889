/**
 * The inode (Documentation/filesystems/ext4/inodes.rst): 128 bytes of the original layout, then
 * i_extra_isize bytes of extra fields (checksum high half, nanoseconds and epoch bits, crtime),
 * then in-inode extended attributes up to s_inode_size.
 */
import { ext4Checksum } from "./checksum";

export const S_IFMT = 0xf000;
export const S_IFREG = 0x8000;
export const S_IFDIR = 0x4000;
export const S_IFLNK = 0xa000;

export const EXT4_INDEX_FL = 0x1000;
export const EXT4_ENCRYPT_FL = 0x800;
export const EXT4_HUGE_FILE_FL = 0x40000;
export const EXT4_EXTENTS_FL = 0x80000;
export const EXT4_INLINE_DATA_FL = 0x10000000;

export const GOOD_OLD_INODE_SIZE = 128;
/** i_block: 15 32-bit words, the block map, the extent tree root, or inline bytes. */
export const I_BLOCK = 0x28;
export const I_BLOCK_SIZE = 60;
const L_I_CHECKSUM_LO = 0x7c;
const I_EXTRA_ISIZE = 0x80;
const I_CHECKSUM_HI = 0x82;

export interface Inode {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Times in ms since 1970 UTC; crtime null when the inode has no room for it. */
  atime: number;
  ctime: number;
  mtime: number;
  crtime: number | null;
  dtime: number;
  linksCount: number;
  /** i_blocks as stored (512-byte units unless huge_file says file-system blocks). */
  blocks: number;
  flags: number;
  /** The 60 bytes of i_block. */
  block: Uint8Array;
  generation: number;
  fileAcl: number;
  extraIsize: number;
  /** The stored checksum (low 16 bits only when there is no i_checksum_hi). */
  checksum: number;
  /** Whether the checksum is 32 bits wide (i_checksum_hi fits in the extra fields). */
  checksumWide: boolean;
  /** The whole on-disk inode, for in-inode extended attributes. */
  raw: Uint8Array;
}

/** Seconds (signed 32 bits) plus the extra field's epoch bits and nanoseconds, in ms. */
function time(v: DataView, at: number, extraAt: number | undefined): number {
  const seconds = v.getInt32(at, true);
  if (extraAt === undefined) return seconds * 1000;
  const extra = v.getUint32(extraAt, true);
  const epoch = extra & 3;
  const nanoseconds = extra >>> 2;
  return (seconds + epoch * 2 ** 32) * 1000 + Math.floor(nanoseconds / 1e6);
}

/** Decodes an inode of `bytes.length` (s_inode_size) bytes. */
export function parseInode(bytes: Uint8Array): Inode {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const u16 = (o: number) => v.getUint16(o, true);
  const u32 = (o: number) => v.getUint32(o, true);
  const extraIsize = bytes.length > GOOD_OLD_INODE_SIZE ? u16(I_EXTRA_ISIZE) : 0;
  // A field of the extra area counts only when i_extra_isize covers it.
  const extraEnd = GOOD_OLD_INODE_SIZE + Math.min(extraIsize, bytes.length - GOOD_OLD_INODE_SIZE);
  const fits = (offset: number, width: number) => offset + width <= extraEnd;
  const extra = (offset: number) => (fits(offset, 4) ? offset : undefined);
  const checksumWide = fits(I_CHECKSUM_HI, 2);
  return {
    mode: u16(0x0),
    uid: u16(0x2) + u16(0x78) * 65536,
    gid: u16(0x18) + u16(0x7a) * 65536,
    size: u32(0x4) + u32(0x6c) * 2 ** 32,
    atime: time(v, 0x8, extra(0x8c)),
    ctime: time(v, 0xc, extra(0x84)),
    mtime: time(v, 0x10, extra(0x88)),
    crtime: fits(0x90, 4) ? time(v, 0x90, extra(0x94)) : null,
    dtime: u32(0x14),
    linksCount: u16(0x1a),
    blocks: u32(0x1c) + u16(0x74) * 2 ** 32,
    flags: u32(0x20),
    block: bytes.slice(I_BLOCK, I_BLOCK + I_BLOCK_SIZE),
    generation: u32(0x64),
    fileAcl: u32(0x68) + u16(0x76) * 2 ** 32,
    extraIsize,
    checksum: u16(L_I_CHECKSUM_LO) + (checksumWide ? u16(I_CHECKSUM_HI) * 65536 : 0),
    checksumWide,
    raw: bytes,
  };
}

/** The inode checksum as it should read: crc32c(inode seed, inode with both halves zeroed). */
export function inodeChecksum(bytes: Uint8Array, inodeSeed: number, checksumWide: boolean): number {
  const copy = bytes.slice();
  copy.fill(0, L_I_CHECKSUM_LO, L_I_CHECKSUM_LO + 2);
  if (checksumWide) copy.fill(0, I_CHECKSUM_HI, I_CHECKSUM_HI + 2);
  const c = ext4Checksum(inodeSeed, copy);
  return checksumWide ? c : c & 0xffff;
}

export type InodeKind = "file" | "dir" | "symlink" | "other";

export function inodeKind(mode: number): InodeKind {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    default:
      return "other";
  }
}
