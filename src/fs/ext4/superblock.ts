/**
 * The ext2/3/4 superblock (Documentation/filesystems/ext4/super.rst): 1024 bytes at byte 1024 of
 * the volume, with backups at the start of the first block of some block groups.
 */
import { FsError } from "../errors";
import { ext4Checksum } from "./checksum";

export const EXT4_SUPER_MAGIC = 0xef53;
export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
/** s_checksum: the last field of the superblock. */
const S_CHECKSUM = 0x3fc;

export const COMPAT_HAS_JOURNAL = 0x4;
export const COMPAT_EXT_ATTR = 0x8;
export const COMPAT_RESIZE_INODE = 0x10;
export const COMPAT_DIR_INDEX = 0x20;
export const COMPAT_SPARSE_SUPER2 = 0x200;

export const INCOMPAT_COMPRESSION = 0x1;
export const INCOMPAT_FILETYPE = 0x2;
export const INCOMPAT_RECOVER = 0x4;
export const INCOMPAT_JOURNAL_DEV = 0x8;
export const INCOMPAT_META_BG = 0x10;
export const INCOMPAT_EXTENTS = 0x40;
export const INCOMPAT_64BIT = 0x80;
export const INCOMPAT_MMP = 0x100;
export const INCOMPAT_FLEX_BG = 0x200;
export const INCOMPAT_CSUM_SEED = 0x2000;
export const INCOMPAT_LARGEDIR = 0x4000;
export const INCOMPAT_INLINE_DATA = 0x8000;
export const INCOMPAT_ENCRYPT = 0x10000;

export const RO_COMPAT_SPARSE_SUPER = 0x1;
export const RO_COMPAT_LARGE_FILE = 0x2;
export const RO_COMPAT_HUGE_FILE = 0x8;
export const RO_COMPAT_GDT_CSUM = 0x10;
export const RO_COMPAT_BIGALLOC = 0x200;
export const RO_COMPAT_METADATA_CSUM = 0x400;

/** s_state bit: errors were detected. */
export const STATE_ERROR_FS = 0x2;

export interface Superblock {
  inodesCount: number;
  blocksCount: number;
  freeBlocksCount: number;
  freeInodesCount: number;
  firstDataBlock: number;
  logBlockSize: number;
  logClusterSize: number;
  blocksPerGroup: number;
  clustersPerGroup: number;
  inodesPerGroup: number;
  mtime: number;
  wtime: number;
  magic: number;
  state: number;
  revLevel: number;
  firstIno: number;
  inodeSize: number;
  blockGroupNr: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  uuid: Uint8Array;
  volumeName: string;
  reservedGdtBlocks: number;
  journalInum: number;
  journalDev: number;
  descSize: number;
  firstMetaBg: number;
  mkfsTime: number;
  logGroupsPerFlex: number;
  checksumType: number;
  backupBgs: [number, number];
  checksumSeed: number;
  checksum: number;
}

/** Decodes the 1024 bytes of a superblock; no validation beyond reading the fields. */
export function parseSuperblock(bytes: Uint8Array): Superblock {
  if (bytes.length < SUPERBLOCK_SIZE) {
    throw new FsError("FS_CORRUPT", `a superblock is ${SUPERBLOCK_SIZE} bytes, got ${bytes.length}`, "superblock");
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, SUPERBLOCK_SIZE);
  const u32 = (o: number) => v.getUint32(o, true);
  const u16 = (o: number) => v.getUint16(o, true);
  const incompat = u32(0x60);
  const wide = (incompat & INCOMPAT_64BIT) !== 0;
  const name = bytes.subarray(0x78, 0x88);
  const nul = name.indexOf(0);
  return {
    inodesCount: u32(0x0),
    blocksCount: u32(0x4) + (wide ? u32(0x150) * 2 ** 32 : 0),
    freeBlocksCount: u32(0xc) + (wide ? u32(0x158) * 2 ** 32 : 0),
    freeInodesCount: u32(0x10),
    firstDataBlock: u32(0x14),
    logBlockSize: u32(0x18),
    logClusterSize: u32(0x1c),
    blocksPerGroup: u32(0x20),
    clustersPerGroup: u32(0x24),
    inodesPerGroup: u32(0x28),
    mtime: u32(0x2c),
    wtime: u32(0x30),
    magic: u16(0x38),
    state: u16(0x3a),
    revLevel: u32(0x4c),
    firstIno: u32(0x54),
    inodeSize: u16(0x58),
    blockGroupNr: u16(0x5a),
    featureCompat: u32(0x5c),
    featureIncompat: incompat,
    featureRoCompat: u32(0x64),
    uuid: bytes.slice(0x68, 0x78),
    volumeName: new TextDecoder().decode(nul < 0 ? name : name.subarray(0, nul)),
    reservedGdtBlocks: u16(0xce),
    journalInum: u32(0xe0),
    journalDev: u32(0xe4),
    descSize: u16(0xfe),
    firstMetaBg: u32(0x104),
    mkfsTime: u32(0x108),
    logGroupsPerFlex: bytes[0x174],
    checksumType: bytes[0x175],
    backupBgs: [u32(0x24c), u32(0x250)],
    checksumSeed: u32(0x270),
    checksum: u32(S_CHECKSUM),
  };
}

/** The superblock's crc32c over everything before s_checksum (checksums.rst). */
export function superblockChecksum(bytes: Uint8Array): number {
  return ext4Checksum(0xffffffff, bytes.subarray(0, S_CHECKSUM));
}

/** The volume's shape, derived from a superblock once its fields are known to be sane. */
export interface Geometry {
  blockSize: number;
  /** Revision 0 file systems have 128-byte inodes and first inode 11. */
  inodeSize: number;
  firstIno: number;
  groupCount: number;
  descSize: number;
  is64: boolean;
  csum: boolean;
}

/**
 * Checks the fields every later computation divides by or loops over, against the device's
 * length; throws FsError naming the superblock at `offset` when one is impossible.
 */
export function superblockGeometry(sb: Superblock, deviceSize: number, offset: number): Geometry {
  const bad = (what: string) => new FsError("FS_CORRUPT", what, "superblock", offset);
  if (sb.magic !== EXT4_SUPER_MAGIC) throw bad(`no ext2/3/4 magic (0x${sb.magic.toString(16)}, not 0xef53)`);
  if (sb.logBlockSize > 6) throw bad(`s_log_block_size ${sb.logBlockSize} gives blocks over 64 KiB`);
  const blockSize = 1024 << sb.logBlockSize;
  // One block bitmap maps a group: 8 bits a byte, a bit per block (per cluster with bigalloc).
  const bigalloc = (sb.featureRoCompat & RO_COMPAT_BIGALLOC) !== 0;
  const perBitmap = bigalloc ? sb.clustersPerGroup : sb.blocksPerGroup;
  if (sb.blocksPerGroup === 0 || perBitmap === 0 || perBitmap > 8 * blockSize) {
    throw bad(`s_blocks_per_group ${sb.blocksPerGroup} is impossible for ${blockSize}-byte blocks`);
  }
  if (sb.inodesPerGroup === 0 || sb.inodesPerGroup > 8 * blockSize) {
    throw bad(`s_inodes_per_group ${sb.inodesPerGroup} does not fit one ${blockSize}-byte inode bitmap`);
  }
  if (sb.firstDataBlock >= sb.blocksCount) throw bad(`s_first_data_block ${sb.firstDataBlock} is past the volume`);
  if (sb.blocksCount * blockSize > deviceSize) {
    throw new FsError(
      "FS_OUT_OF_RANGE",
      `the superblock claims ${sb.blocksCount} blocks of ${blockSize} bytes (${sb.blocksCount * blockSize} bytes), the device holds ${deviceSize}`,
      "superblock",
      offset,
    );
  }
  const rev0 = sb.revLevel === 0;
  const inodeSize = rev0 ? 128 : sb.inodeSize;
  if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) {
    throw bad(`s_inode_size ${sb.inodeSize} is not a power of two between 128 and the block size`);
  }
  const is64 = (sb.featureIncompat & INCOMPAT_64BIT) !== 0;
  const descSize = is64 ? sb.descSize : 32;
  if (descSize < 32 || descSize > blockSize || (descSize & (descSize - 1)) !== 0) {
    throw bad(`s_desc_size ${sb.descSize} is not a power of two between 32 and the block size`);
  }
  const groupCount = Math.ceil((sb.blocksCount - sb.firstDataBlock) / sb.blocksPerGroup);
  if (sb.inodesCount > groupCount * sb.inodesPerGroup) {
    throw bad(`s_inodes_count ${sb.inodesCount} exceeds ${groupCount} groups of ${sb.inodesPerGroup} inodes`);
  }
  const firstIno = rev0 ? 11 : sb.firstIno;
  if (firstIno < 3 || firstIno > sb.inodesCount) throw bad(`s_first_ino ${sb.firstIno} is out of range`);
  const csum = (sb.featureRoCompat & RO_COMPAT_METADATA_CSUM) !== 0;
  return { blockSize, inodeSize, firstIno, groupCount, descSize, is64, csum };
}

/** Whether block group `group` holds a copy of the superblock (sparse_super, sparse_super2). */
export function groupHasSuper(sb: Superblock, group: number): boolean {
  if (group === 0) return true;
  if (sb.featureCompat & COMPAT_SPARSE_SUPER2) return group === sb.backupBgs[0] || group === sb.backupBgs[1];
  if (group === 1) return true;
  if (!(sb.featureRoCompat & RO_COMPAT_SPARSE_SUPER)) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < group) p *= base;
    if (p === group) return true;
  }
  return false;
}

/** "ext4" when any feature past ext3's is on, "ext3" with a journal, else "ext2". */
export function fileSystemType(sb: Superblock): "ext2" | "ext3" | "ext4" {
  const ext3Incompat = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG | INCOMPAT_JOURNAL_DEV;
  const ext3RoCompat = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | 0x4;
  if (sb.featureIncompat & ~ext3Incompat || sb.featureRoCompat & ~ext3RoCompat) return "ext4";
  return sb.featureCompat & COMPAT_HAS_JOURNAL ? "ext3" : "ext2";
}

/** The UUID as the ext tools print it: 8-4-4-4-12 lower-case hex, bytes in stored order. */
export function formatUuid(uuid: Uint8Array): string {
  const h = Array.from(uuid, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
