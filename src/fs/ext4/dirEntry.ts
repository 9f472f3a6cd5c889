/**
 * Linear directory entries (Documentation/filesystems/ext4/directory.rst): ext4_dir_entry_2
 * (inode, rec_len, name_len, file_type, name) with the filetype feature, ext4_dir_entry (a 16-bit
 * name_len) without; with metadata_csum a leaf block ends in a 12-byte ext4_dir_entry_tail.
 */
import { FsError } from "../errors";
import { ext4Checksum } from "./checksum";

/** det_reserved_ft of the fake entry that holds a directory block's checksum. */
export const EXT4_FT_DIR_CSUM = 0xde;
export const DIR_TAIL_SIZE = 12;
const DIR_ENTRY_HEADER = 8;

export interface DirEntry {
  inode: number;
  recLen: number;
  nameLen: number;
  /** 0 without the filetype feature. */
  fileType: number;
  name: Uint8Array;
  /** Offset of the entry within the bytes parsed. */
  offset: number;
}

/** rec_len as stored to bytes: 64 KiB blocks fold the length's top bits into its low two. */
export function recLenFromDisk(raw: number, blockSize: number): number {
  if (blockSize < 65536) return raw;
  if (raw === 65535 || raw === 0) return blockSize;
  return (raw & 65532) | ((raw & 3) << 16);
}

/**
 * Every entry of a block of directory entries (or the inline directory area), including unused
 * ones (inode 0). Bounded by the bytes: each step moves forward by at least 8 bytes or throws.
 */
export function parseDirEntries(
  bytes: Uint8Array,
  hasFileType: boolean,
  blockSize: number,
  structure: string,
  offset: number,
): DirEntry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: DirEntry[] = [];
  let at = 0;
  while (at < bytes.length) {
    const bad = (what: string) =>
      new FsError("FS_CORRUPT", `${structure}: entry at byte ${at} ${what}`, structure, offset + at);
    if (at + DIR_ENTRY_HEADER > bytes.length) throw bad(`is cut off by the end of the block`);
    const inode = v.getUint32(at, true);
    const recLen = recLenFromDisk(v.getUint16(at + 4, true), blockSize);
    const nameLen = hasFileType ? bytes[at + 6] : v.getUint16(at + 6, true);
    const fileType = hasFileType ? bytes[at + 7] : 0;
    if (recLen < DIR_ENTRY_HEADER || recLen % 4 !== 0) throw bad(`has rec_len ${recLen}`);
    if (at + recLen > bytes.length) throw bad(`has rec_len ${recLen}, past the end of the block`);
    if (DIR_ENTRY_HEADER + nameLen > recLen) throw bad(`has a ${nameLen}-byte name longer than its rec_len ${recLen}`);
    out.push({
      inode,
      recLen,
      nameLen,
      fileType,
      name: bytes.subarray(at + DIR_ENTRY_HEADER, at + DIR_ENTRY_HEADER + nameLen),
      offset: at,
    });
    at += recLen;
  }
  return out;
}

/** The stored checksum of a leaf block's ext4_dir_entry_tail, or undefined when it has none. */
export function dirTailChecksum(block: Uint8Array): number | undefined {
  if (block.length < DIR_TAIL_SIZE) return undefined;
  const at = block.length - DIR_TAIL_SIZE;
  const v = new DataView(block.buffer, block.byteOffset + at, DIR_TAIL_SIZE);
  const isTail =
    v.getUint32(0, true) === 0 &&
    v.getUint16(4, true) === DIR_TAIL_SIZE &&
    v.getUint8(6) === 0 &&
    v.getUint8(7) === EXT4_FT_DIR_CSUM;
  return isTail ? v.getUint32(8, true) : undefined;
}

/** The leaf block checksum as it should read: crc32c(inode seed, the block up to the tail). */
export function dirBlockChecksum(block: Uint8Array, inodeSeed: number): number {
  return ext4Checksum(inodeSeed, block.subarray(0, block.length - DIR_TAIL_SIZE));
}

/** Decodes a name as stored: UTF-8, with U+FFFD for bytes that are not. */
export function decodeName(name: Uint8Array): string {
  return new TextDecoder("utf-8").decode(name);
}
