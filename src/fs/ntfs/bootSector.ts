/**
 * The NTFS boot sector (the BIOS parameter block and its NTFS extension): cluster size, the
 * volume's length, where $MFT and $MFTMirr start, the MFT record and index record sizes. A copy
 * lies in the volume's last sector.
 */
import { FsError } from "../errors";
import { u16, u64 } from "./bytes";

export const OEM_ID = "NTFS    ";

export interface NtfsBootSector {
  bytesPerSector: number;
  bytesPerCluster: number;
  /** Sectors in the volume, not counting the backup boot sector after them. */
  totalSectors: number;
  mftLcn: number;
  mftMirrLcn: number;
  mftRecordSize: number;
  indexRecordSize: number;
  serialNumber: string;
}

export function looksLikeNtfs(head: Uint8Array): boolean {
  if (head.length < 512) return false;
  for (let i = 0; i < 8; i++) if (head[3 + i] !== OEM_ID.charCodeAt(i)) return false;
  return head[510] === 0x55 && head[511] === 0xaa;
}

/** A size given in clusters, or, when negative, as 2^-n bytes. */
function recordSize(v: number, bytesPerCluster: number): number {
  const n = v > 127 ? v - 256 : v;
  return n < 0 ? 2 ** -n : n * bytesPerCluster;
}

export function parseBootSector(b: Uint8Array, volumeBytes: number, at = 0): NtfsBootSector {
  const S = "NTFS boot sector";
  if (!looksLikeNtfs(b)) throw new FsError("FS_UNKNOWN", 'no "NTFS    " OEM ID with the 0x55AA signature', S, at);
  const bytesPerSector = u16(b, 11);
  if (bytesPerSector < 256 || bytesPerSector > 4096 || (bytesPerSector & (bytesPerSector - 1)) !== 0) {
    throw new FsError(
      "FS_CORRUPT",
      `BytesPerSector ${bytesPerSector} is not a power of two from 256 to 4096`,
      S,
      at + 11,
    );
  }
  const spc = b[13];
  const sectorsPerCluster = spc > 0x80 ? 2 ** (256 - spc) : spc;
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) {
    throw new FsError("FS_CORRUPT", `SectorsPerCluster 0x${spc.toString(16)} is not a power of two`, S, at + 13);
  }
  const bytesPerCluster = bytesPerSector * sectorsPerCluster;
  if (bytesPerCluster > 2 * 1024 * 1024) {
    throw new FsError("FS_CORRUPT", `a cluster of ${bytesPerCluster} bytes is larger than 2 MiB`, S, at + 13);
  }
  const bs: NtfsBootSector = {
    bytesPerSector,
    bytesPerCluster,
    totalSectors: u64(b, 0x28, S, at),
    mftLcn: u64(b, 0x30, S, at),
    mftMirrLcn: u64(b, 0x38, S, at),
    mftRecordSize: recordSize(b[0x40], bytesPerCluster),
    indexRecordSize: recordSize(b[0x44], bytesPerCluster),
    serialNumber: Array.from(b.subarray(0x48, 0x50))
      .reverse()
      .map((x) => x.toString(16).padStart(2, "0"))
      .join("")
      .toUpperCase(),
  };
  for (const [name, v, off] of [
    ["MFT record size", bs.mftRecordSize, 0x40],
    ["index record size", bs.indexRecordSize, 0x44],
  ] as const) {
    if (v < 512 || v > 65536 || (v & (v - 1)) !== 0) {
      throw new FsError("FS_CORRUPT", `the ${name} ${v} is not a power of two from 512 to 64 KiB`, S, at + off);
    }
  }
  const clusters = Math.floor((bs.totalSectors * bytesPerSector) / bytesPerCluster);
  if (bs.totalSectors * bytesPerSector > volumeBytes) {
    throw new FsError(
      "FS_CORRUPT",
      `TotalSectors ${bs.totalSectors} runs past the volume (${volumeBytes} bytes)`,
      S,
      at + 0x28,
    );
  }
  if (bs.mftLcn >= clusters || bs.mftMirrLcn >= clusters) {
    throw new FsError(
      "FS_CORRUPT",
      `$MFT (LCN ${bs.mftLcn}) or $MFTMirr (LCN ${bs.mftMirrLcn}) lies past the volume`,
      S,
      at + 0x30,
    );
  }
  return bs;
}
