/**
 * Decodes the partition table at the start of the virtual disk (LBA 0–33): the MBR and, when
 * present, the GPT header and its partition entries (UEFI spec, "GUID Partition Table Disk
 * Layout"). Input is bytes the engine read from the virtual disk; this only names them for the
 * hex view's annotation.
 */

export interface MbrPartition {
  slot: number;
  bootable: boolean;
  type: number;
  typeName: string;
  firstLba: number;
  sectors: number;
}

export interface Mbr {
  signatureValid: boolean;
  diskSignature: number;
  partitions: MbrPartition[];
  protective: boolean;
}

export interface GptPartition {
  index: number;
  typeGuid: string;
  typeName: string;
  uniqueGuid: string;
  firstLba: number;
  lastLba: number;
  attributes: bigint;
  name: string;
}

export interface Gpt {
  revision: number;
  headerSize: number;
  headerCrc: number;
  headerCrcValid: boolean;
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
  entriesCrcValid: boolean;
  partitions: GptPartition[];
}

export interface PartitionTable {
  mbr: Mbr | null;
  gpt: Gpt | null;
}

const MBR_TYPES: Record<number, string> = {
  0x01: "FAT12",
  0x04: "FAT16 <32M",
  0x05: "Extended",
  0x06: "FAT16",
  0x07: "NTFS / exFAT",
  0x0b: "FAT32 (CHS)",
  0x0c: "FAT32 (LBA)",
  0x0e: "FAT16 (LBA)",
  0x0f: "Extended (LBA)",
  0x27: "Windows RE",
  0x82: "Linux swap",
  0x83: "Linux",
  0x8e: "Linux LVM",
  0xee: "GPT protective",
  0xef: "EFI system",
  0xfd: "Linux RAID",
};

const GPT_TYPES: Record<string, string> = {
  "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "EFI system",
  "e3c9e316-0b5c-4db8-817d-f92df00215ae": "Microsoft reserved",
  "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7": "Microsoft basic data",
  "de94bba4-06d1-4d40-a16a-bfd50179d6ac": "Windows recovery",
  "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3": "Windows LDM metadata",
  "af9b60a0-1431-4f62-bc68-3311714a69ad": "Windows LDM data",
  "0fc63daf-8483-4772-8e79-3d69d8477de4": "Linux filesystem",
  "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "Linux swap",
  "e6d6d379-f507-44c2-a23c-238f2a3df928": "Linux LVM",
  "21686148-6449-6e6f-744e-656564454649": "BIOS boot",
};

export const GPT_SIGNATURE = "EFI PART";

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, reflected), the checksum GPT uses. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const hex2 = (b: number) => b.toString(16).padStart(2, "0");

/** GUIDs on disk: first three fields little-endian, last two as bytes (same as MS-VHDX §1.3). */
export function guidText(b: Uint8Array, at: number): string {
  const h = (i: number) => hex2(b[at + i]);
  return (
    h(3) +
    h(2) +
    h(1) +
    h(0) +
    "-" +
    h(5) +
    h(4) +
    "-" +
    h(7) +
    h(6) +
    "-" +
    h(8) +
    h(9) +
    "-" +
    h(10) +
    h(11) +
    h(12) +
    h(13) +
    h(14) +
    h(15)
  );
}

function u64(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
}

export function parseMbr(sector0: Uint8Array): Mbr | null {
  if (sector0.length < 512) return null;
  const dv = new DataView(sector0.buffer, sector0.byteOffset, 512);
  const signatureValid = sector0[510] === 0x55 && sector0[511] === 0xaa;
  const partitions: MbrPartition[] = [];
  for (let slot = 0; slot < 4; slot++) {
    const at = 446 + slot * 16;
    const type = sector0[at + 4];
    if (type === 0) continue;
    partitions.push({
      slot,
      bootable: sector0[at] === 0x80,
      type,
      typeName: MBR_TYPES[type] ?? "unknown",
      firstLba: dv.getUint32(at + 8, true),
      sectors: dv.getUint32(at + 12, true),
    });
  }
  if (!signatureValid && partitions.length === 0) return null;
  return {
    signatureValid,
    diskSignature: dv.getUint32(440, true),
    partitions,
    protective: partitions.some((p) => p.type === 0xee),
  };
}

/**
 * `bytes` holds the disk from LBA 0 onwards (at least LBA 0–1; the entry array is decoded as far
 * as `bytes` reaches).
 */
export function parseGpt(bytes: Uint8Array, sectorSize: number): Gpt | null {
  if (bytes.length < sectorSize * 2) return null;
  const hdr = bytes.subarray(sectorSize, sectorSize * 2);
  let sig = "";
  for (let i = 0; i < 8; i++) sig += String.fromCharCode(hdr[i]);
  if (sig !== GPT_SIGNATURE) return null;
  const dv = new DataView(hdr.buffer, hdr.byteOffset, hdr.length);
  const headerSize = dv.getUint32(12, true);
  const headerCrc = dv.getUint32(16, true);
  let headerCrcValid = false;
  if (headerSize >= 92 && headerSize <= sectorSize) {
    const copy = hdr.slice(0, headerSize);
    copy.fill(0, 16, 20);
    headerCrcValid = crc32(copy) === headerCrc;
  }
  const entriesLba = u64(dv, 72);
  const entryCount = dv.getUint32(80, true);
  const entrySize = dv.getUint32(84, true);
  const entriesCrc = dv.getUint32(88, true);
  const arrayStart = entriesLba * sectorSize;
  const arrayLength = entryCount * entrySize;
  const partitions: GptPartition[] = [];
  let entriesCrcValid = false;
  if (entrySize >= 128 && arrayStart + arrayLength <= bytes.length) {
    const arr = bytes.subarray(arrayStart, arrayStart + arrayLength);
    entriesCrcValid = crc32(arr) === entriesCrc;
    for (let i = 0; i < entryCount; i++) {
      const e = arr.subarray(i * entrySize, (i + 1) * entrySize);
      const typeGuid = guidText(e, 0);
      if (typeGuid === "00000000-0000-0000-0000-000000000000") continue;
      const edv = new DataView(e.buffer, e.byteOffset, e.length);
      let name = "";
      for (let c = 0; c < 36; c++) {
        const code = edv.getUint16(56 + c * 2, true);
        if (code === 0) break;
        name += String.fromCharCode(code);
      }
      partitions.push({
        index: i,
        typeGuid,
        typeName: GPT_TYPES[typeGuid] ?? "unknown",
        uniqueGuid: guidText(e, 16),
        firstLba: u64(edv, 32),
        lastLba: u64(edv, 40),
        attributes: edv.getBigUint64(48, true),
        name,
      });
    }
  }
  return {
    revision: dv.getUint32(8, true),
    headerSize,
    headerCrc,
    headerCrcValid,
    myLba: u64(dv, 24),
    alternateLba: u64(dv, 32),
    firstUsableLba: u64(dv, 40),
    lastUsableLba: u64(dv, 48),
    diskGuid: guidText(hdr, 56),
    entriesLba,
    entryCount,
    entrySize,
    entriesCrc,
    entriesCrcValid,
    partitions,
  };
}

export function parsePartitionTable(bytes: Uint8Array, sectorSize: number): PartitionTable {
  return { mbr: parseMbr(bytes.subarray(0, 512)), gpt: parseGpt(bytes, sectorSize) };
}

/** Bytes needed to decode LBA 0–33 (the GPT entry array ends at LBA 33 with 512-byte sectors). */
export function partitionAreaLength(sectorSize: number): number {
  return sectorSize === 512 ? 34 * 512 : 6 * sectorSize;
}

export interface Annotation {
  start: number;
  length: number;
  label: string;
}

/** Labelled byte ranges for the hex view. */
export function partitionAnnotations(t: PartitionTable, sectorSize: number): Annotation[] {
  const out: Annotation[] = [];
  if (t.mbr) {
    out.push({ start: 0, length: 440, label: "MBR boot code" });
    out.push({
      start: 440,
      length: 4,
      label: `MBR disk signature 0x${t.mbr.diskSignature.toString(16).padStart(8, "0")}`,
    });
    for (const p of t.mbr.partitions) {
      out.push({
        start: 446 + p.slot * 16,
        length: 16,
        label: `MBR partition ${p.slot + 1}: ${p.typeName} (0x${hex2(p.type)}), LBA ${p.firstLba}, ${p.sectors} sectors`,
      });
    }
    out.push({
      start: 510,
      length: 2,
      label: t.mbr.signatureValid ? "MBR signature 55 AA" : "MBR signature (invalid)",
    });
  }
  if (t.gpt) {
    const g = t.gpt;
    out.push({
      start: sectorSize,
      length: g.headerSize,
      label: `GPT header rev ${g.revision >>> 16}.${g.revision & 0xffff}, disk ${g.diskGuid}, CRC ${g.headerCrcValid ? "ok" : "bad"}`,
    });
    for (const p of g.partitions) {
      out.push({
        start: g.entriesLba * sectorSize + p.index * g.entrySize,
        length: g.entrySize,
        label: `GPT partition ${p.index + 1}: ${p.typeName}${p.name ? ` "${p.name}"` : ""}, LBA ${p.firstLba}–${p.lastLba}`,
      });
    }
  }
  return out;
}
