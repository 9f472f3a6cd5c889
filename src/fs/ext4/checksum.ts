/**
 * The checksum functions ext4 names (checksums.rst): crc32c for metadata_csum, crc16 for the
 * older gdt_csum group descriptor checksum. Both are the raw register form the kernel uses:
 * seeded by the caller, no final inversion.
 */
import { crc32cUpdate } from "../../lib/crc32c";

/** crc32c continued from the raw register `seed` (~0 to start), without the final inversion. */
export function ext4Checksum(seed: number, data: Uint8Array): number {
  return ~crc32cUpdate(~seed >>> 0, data) >>> 0;
}

/** The little-endian bytes of a 32-bit number, as checksums mix in inode and group numbers. */
export function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

const CRC16_TABLE = (() => {
  // CRC-16 (ANSI/IBM), reflected polynomial 0xA001.
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crc16(seed: number, data: Uint8Array): number {
  let c = seed & 0xffff;
  for (let i = 0; i < data.length; i++) c = CRC16_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return c;
}

/** metadata_csum's per-volume seed: s_checksum_seed with csum_seed, else crc32c(~0, UUID). */
export function volumeChecksumSeed(uuid: Uint8Array, checksumSeed: number, hasCsumSeed: boolean): number {
  return hasCsumSeed ? checksumSeed : ext4Checksum(0xffffffff, uuid);
}

/** The seed of an inode's own structures (inode, extent blocks, directory blocks). */
export function inodeChecksumSeed(volumeSeed: number, inode: number, generation: number): number {
  return ext4Checksum(ext4Checksum(volumeSeed, le32(inode)), le32(generation));
}
