/**
 * The FAT boot sector and its BIOS Parameter Block (Microsoft, "FAT: General Overview of On-Disk
 * Format"): the geometry every other FAT structure is found by. The FAT type follows from the
 * count of clusters alone, as the specification says, never from the BS_FilSysType text.
 */
import { FsError } from "../errors";

export type FatType = "fat12" | "fat16" | "fat32";

export interface BootSector {
  oemName: string;
  /** BPB_BytsPerSec */
  bytesPerSector: number;
  /** BPB_SecPerClus */
  sectorsPerCluster: number;
  /** BPB_RsvdSecCnt */
  reservedSectors: number;
  /** BPB_NumFATs */
  numFats: number;
  /** BPB_RootEntCnt: 0 on FAT32. */
  rootEntryCount: number;
  /** BPB_TotSec16, or BPB_TotSec32 when that is 0. */
  totalSectors: number;
  /** BPB_Media */
  media: number;
  /** BPB_FATSz16, or BPB_FATSz32 when that is 0. */
  fatSize: number;
  /** BPB_HiddSec */
  hiddenSectors: number;
  /** FAT32: BPB_ExtFlags (bit 7: only one FAT is active, bits 0–3 name it). */
  extFlags: number;
  /** FAT32: BPB_RootClus */
  rootCluster: number;
  /** FAT32: BPB_FSInfo */
  fsInfoSector: number;
  /** FAT32: BPB_BkBootSec */
  backupBootSector: number;
  /** BS_VolID, when BS_BootSig is 0x29. */
  volumeId: number | null;
  /** BS_VolLab, trailing spaces removed, when BS_BootSig is 0x29. */
  volumeLabel: string;
  /** BS_FilSysType, informational only. */
  fileSystemType: string;
  /** The type that the cluster count decides. */
  fatType: FatType;
  /** Derived: sectors of the root directory region (FAT12/16). */
  rootDirSectors: number;
  /** Derived: first sector of the data region. */
  firstDataSector: number;
  /** Derived: data clusters (numbered 2 … clusterCount + 1). */
  clusterCount: number;
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
const text = (b: Uint8Array, at: number, n: number) =>
  String.fromCharCode(...b.subarray(at, at + n)).replace(/[ \0]+$/, "");

/** The cheap signature test the driver's probe runs: jump, 55 AA, a plausible BPB. */
export function looksLikeFatBootSector(b: Uint8Array): boolean {
  if (b.length < 512) return false;
  if (!(b[0] === 0xeb || b[0] === 0xe9)) return false;
  if (b[510] !== 0x55 || b[511] !== 0xaa) return false;
  const dv = new DataView(b.buffer, b.byteOffset, 512);
  const bps = dv.getUint16(11, true);
  const spc = b[13];
  const rsvd = dv.getUint16(14, true);
  const fats = b[16];
  const media = b[21];
  if (bps < 512 || bps > 4096 || !isPow2(bps) || !isPow2(spc) || rsvd === 0 || fats === 0) return false;
  if (media !== 0xf0 && media < 0xf8) return false;
  const tot = dv.getUint16(19, true) || dv.getUint32(32, true);
  const fatSz = dv.getUint16(22, true) || dv.getUint32(36, true);
  return tot > 0 && fatSz > 0;
}

/**
 * Parses and checks the boot sector; `volumeBytes` is the device's length. Every field the other
 * structures are found by is checked against the volume here, so later reads stay inside it.
 */
export function parseBootSector(b: Uint8Array, volumeBytes: number): BootSector {
  const bad = (why: string, at: number) => new FsError("FS_CORRUPT", `FAT boot sector: ${why}`, "boot sector", at);
  if (b.length < 512) throw bad("shorter than 512 bytes", 0);
  if (b[510] !== 0x55 || b[511] !== 0xaa) throw bad("no 55 AA signature", 510);
  const dv = new DataView(b.buffer, b.byteOffset, 512);
  const bytesPerSector = dv.getUint16(11, true);
  if (bytesPerSector < 512 || bytesPerSector > 4096 || !isPow2(bytesPerSector))
    throw bad(`BPB_BytsPerSec ${bytesPerSector} is not 512, 1024, 2048 or 4096`, 11);
  const sectorsPerCluster = b[13];
  if (!isPow2(sectorsPerCluster)) throw bad(`BPB_SecPerClus ${sectorsPerCluster} is not a power of two`, 13);
  const reservedSectors = dv.getUint16(14, true);
  if (reservedSectors === 0) throw bad("BPB_RsvdSecCnt is 0", 14);
  const numFats = b[16];
  if (numFats === 0) throw bad("BPB_NumFATs is 0", 16);
  const rootEntryCount = dv.getUint16(17, true);
  const tot16 = dv.getUint16(19, true);
  const totalSectors = tot16 || dv.getUint32(32, true);
  const media = b[21];
  const fat16 = dv.getUint16(22, true);
  const fatSize = fat16 || dv.getUint32(36, true);
  if (fatSize === 0) throw bad("the FAT size (BPB_FATSz16 and BPB_FATSz32) is 0", 22);
  if (totalSectors === 0) throw bad("the sector count (BPB_TotSec16 and BPB_TotSec32) is 0", 19);
  if (totalSectors * bytesPerSector > volumeBytes)
    throw bad(
      `${totalSectors} sectors of ${bytesPerSector} bytes run past the end of the volume (${volumeBytes} bytes)`,
      tot16 ? 19 : 32,
    );
  const rootDirSectors = Math.ceil((rootEntryCount * 32) / bytesPerSector);
  const firstDataSector = reservedSectors + numFats * fatSize + rootDirSectors;
  if (firstDataSector >= totalSectors)
    throw bad(
      `the reserved sectors, FATs and root directory (${firstDataSector} sectors) fill the volume (${totalSectors})`,
      14,
    );
  const clusterCount = Math.floor((totalSectors - firstDataSector) / sectorsPerCluster);
  const fatType: FatType = clusterCount < 4085 ? "fat12" : clusterCount < 65525 ? "fat16" : "fat32";
  const fat32 = fatType === "fat32";
  const entryBits = fatType === "fat12" ? 12 : fatType === "fat16" ? 16 : 32;
  if (Math.ceil(((clusterCount + 2) * entryBits) / 8) > fatSize * bytesPerSector)
    throw bad(`a FAT of ${fatSize} sectors cannot hold ${clusterCount + 2} entries`, fat16 ? 22 : 36);
  if (!fat32 && rootEntryCount === 0) throw bad("BPB_RootEntCnt is 0 on a FAT12/FAT16 volume", 17);
  const ext = fat32 ? 64 : 36; // the extended boot record after the BPB: BS_DrvNum …
  const bootSig = b[ext + 2];
  const rootCluster = fat32 ? dv.getUint32(44, true) : 0;
  if (fat32 && (rootCluster < 2 || rootCluster > clusterCount + 1))
    throw bad(`BPB_RootClus ${rootCluster} is not a data cluster (2–${clusterCount + 1})`, 44);
  return {
    oemName: text(b, 3, 8),
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    numFats,
    rootEntryCount,
    totalSectors,
    media,
    fatSize,
    hiddenSectors: dv.getUint32(28, true),
    extFlags: fat32 ? dv.getUint16(40, true) : 0,
    rootCluster,
    fsInfoSector: fat32 ? dv.getUint16(48, true) : 0,
    backupBootSector: fat32 ? dv.getUint16(50, true) : 0,
    volumeId: bootSig === 0x29 ? dv.getUint32(ext + 3, true) : null,
    volumeLabel: bootSig === 0x29 ? text(b, ext + 7, 11) : "",
    fileSystemType: bootSig === 0x29 ? text(b, ext + 18, 8) : "",
    fatType,
    rootDirSectors,
    firstDataSector,
    clusterCount,
  };
}
