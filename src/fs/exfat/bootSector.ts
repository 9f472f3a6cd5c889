/**
 * The exFAT Main Boot Sector and the boot region's checksum (exFAT specification §3.1, §3.4).
 * The boot region is 12 sectors: the boot sector, 8 extended boot sectors, the OEM parameters,
 * a reserved sector and the boot checksum sector; sectors 12–23 hold the backup boot region.
 */
import { FsError } from "../errors";

export const FILE_SYSTEM_NAME = "EXFAT   ";

export interface ExfatBootSector {
  partitionOffset: number;
  /** Sectors. */
  volumeLength: number;
  /** Sectors from the volume's start. */
  fatOffset: number;
  fatLength: number;
  clusterHeapOffset: number;
  clusterCount: number;
  firstClusterOfRootDirectory: number;
  volumeSerialNumber: number;
  fileSystemRevision: { major: number; minor: number };
  /** Bit 0 ActiveFat, bit 1 VolumeDirty, bit 2 MediaFailure. */
  volumeFlags: number;
  bytesPerSectorShift: number;
  sectorsPerClusterShift: number;
  numberOfFats: number;
  percentInUse: number;
  bytesPerSector: number;
  bytesPerCluster: number;
}

export const VOLUME_DIRTY = 0x2;
export const MEDIA_FAILURE = 0x4;

/** True when the first sector names the exFAT file system (§3.1.2). */
export function looksLikeExfat(head: Uint8Array): boolean {
  if (head.length < 512) return false;
  for (let i = 0; i < 8; i++) if (head[3 + i] !== FILE_SYSTEM_NAME.charCodeAt(i)) return false;
  return true;
}

function u64(v: DataView, at: number, structure: string): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  if (hi >= 0x200000) throw new FsError("FS_UNSUPPORTED", `a 64-bit field at byte ${at} is past 2^53`, structure, at);
  return hi * 0x100000000 + lo;
}

/** Parses and checks the Main (or Backup) Boot Sector against the volume's size in bytes (§3.1). */
export function parseBootSector(b: Uint8Array, volumeBytes: number, at = 0): ExfatBootSector {
  const S = "exFAT boot sector";
  if (!looksLikeExfat(b)) throw new FsError("FS_UNKNOWN", 'FileSystemName is not "EXFAT   "', S, at + 3);
  const v = new DataView(b.buffer, b.byteOffset, 512);
  for (let i = 11; i < 64; i++) {
    if (b[i] !== 0) throw new FsError("FS_CORRUPT", `MustBeZero byte ${i} is ${b[i]}`, S, at + i);
  }
  if (v.getUint16(510, true) !== 0xaa55) throw new FsError("FS_CORRUPT", "BootSignature is not 0xAA55", S, at + 510);
  const bytesPerSectorShift = b[108];
  const sectorsPerClusterShift = b[109];
  if (bytesPerSectorShift < 9 || bytesPerSectorShift > 12) {
    throw new FsError("FS_CORRUPT", `BytesPerSectorShift ${bytesPerSectorShift} is outside 9–12`, S, at + 108);
  }
  if (sectorsPerClusterShift > 25 - bytesPerSectorShift) {
    throw new FsError(
      "FS_CORRUPT",
      `a cluster of 2^${sectorsPerClusterShift} sectors is larger than 32 MiB`,
      S,
      at + 109,
    );
  }
  const bs: ExfatBootSector = {
    partitionOffset: u64(v, 64, S),
    volumeLength: u64(v, 72, S),
    fatOffset: v.getUint32(80, true),
    fatLength: v.getUint32(84, true),
    clusterHeapOffset: v.getUint32(88, true),
    clusterCount: v.getUint32(92, true),
    firstClusterOfRootDirectory: v.getUint32(96, true),
    volumeSerialNumber: v.getUint32(100, true),
    fileSystemRevision: { major: b[105], minor: b[104] },
    volumeFlags: v.getUint16(106, true),
    bytesPerSectorShift,
    sectorsPerClusterShift,
    numberOfFats: b[110],
    percentInUse: b[112],
    bytesPerSector: 1 << bytesPerSectorShift,
    bytesPerCluster: 2 ** (bytesPerSectorShift + sectorsPerClusterShift),
  };
  const sector = bs.bytesPerSector;
  if (bs.numberOfFats !== 1 && bs.numberOfFats !== 2) {
    throw new FsError("FS_CORRUPT", `NumberOfFats is ${bs.numberOfFats}, not 1 or 2`, S, at + 110);
  }
  if (bs.fatOffset < 24)
    throw new FsError("FS_CORRUPT", `FatOffset ${bs.fatOffset} is inside the boot regions`, S, at + 80);
  if (bs.fatLength * sector < (bs.clusterCount + 2) * 4) {
    throw new FsError(
      "FS_CORRUPT",
      `a FAT of ${bs.fatLength} sectors cannot hold ${bs.clusterCount} clusters`,
      S,
      at + 84,
    );
  }
  if (bs.clusterHeapOffset < bs.fatOffset + bs.fatLength * bs.numberOfFats) {
    throw new FsError("FS_CORRUPT", `ClusterHeapOffset ${bs.clusterHeapOffset} overlaps the FATs`, S, at + 88);
  }
  const heapEnd = (bs.clusterHeapOffset + bs.clusterCount * 2 ** sectorsPerClusterShift) * sector;
  if (heapEnd > volumeBytes || bs.volumeLength * sector > volumeBytes + sector) {
    throw new FsError(
      "FS_CORRUPT",
      `the cluster heap ends at byte ${heapEnd}, past the end of the volume (${volumeBytes} bytes)`,
      S,
      at + 92,
    );
  }
  if (bs.firstClusterOfRootDirectory < 2 || bs.firstClusterOfRootDirectory > bs.clusterCount + 1) {
    throw new FsError(
      "FS_CORRUPT",
      `FirstClusterOfRootDirectory ${bs.firstClusterOfRootDirectory} is not a cluster of the heap`,
      S,
      at + 96,
    );
  }
  return bs;
}

/** §3.4.1: the checksum of boot sectors 0–10, leaving out VolumeFlags and PercentInUse. */
export function bootChecksum(region: Uint8Array, bytesPerSector: number): number {
  let sum = 0;
  const n = bytesPerSector * 11;
  for (let i = 0; i < n; i++) {
    if (i === 106 || i === 107 || i === 112) continue;
    sum = (((sum & 1) << 31) | (sum >>> 1)) + region[i];
    sum >>>= 0;
  }
  return sum;
}

/** Whether sector 11 of a boot region repeats the checksum of sectors 0–10 (§3.4). */
export function bootChecksumValid(region: Uint8Array, bytesPerSector: number): boolean {
  const want = bootChecksum(region, bytesPerSector);
  const v = new DataView(region.buffer, region.byteOffset + 11 * bytesPerSector, bytesPerSector);
  for (let i = 0; i < bytesPerSector; i += 4) if (v.getUint32(i, true) !== want) return false;
  return true;
}
