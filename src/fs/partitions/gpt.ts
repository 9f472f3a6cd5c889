/**
 * The GUID Partition Table (UEFI specification, "GUID Partition Table (GPT) Disk Layout"): the
 * primary header at LBA 1 with its partition entry array, the backup header at the last LBA with
 * its own array. Both carry CRC32s; a damaged primary gives way to the backup, with a finding.
 */
import type { BlockDevice, FsFinding } from "../types";

export const GPT_SIGNATURE = "EFI PART";
export const GPT_HEADER_MIN_SIZE = 92;
export const GPT_ENTRY_MIN_SIZE = 128;
/** The largest entry array read (the UEFI minimum is 16 KiB; tools write 16 KiB). */
export const GPT_MAX_ARRAY_BYTES = 4 * 1024 * 1024;
const ZERO_GUID = "00000000-0000-0000-0000-000000000000";

export const GPT_TYPES: Readonly<Record<string, string>> = {
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

/** GUIDs on disk: first three fields little-endian, last two as bytes. */
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

export interface GptPartition {
  /** 0-based place in the entry array; the partition number is index + 1. */
  index: number;
  typeGuid: string;
  typeName: string;
  uniqueGuid: string;
  firstLba: number;
  lastLba: number;
  /** The 64-bit attribute field, as 0x-hex text. */
  attributes: string;
  name: string;
}

export interface GptHeader {
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
}

export interface Gpt extends GptHeader {
  entriesCrcValid: boolean;
  partitions: GptPartition[];
}

/** A header sector, or null without the "EFI PART" signature. `headerCrcValid` tells the rest. */
export function parseGptHeader(sector: Uint8Array): GptHeader | null {
  if (sector.length < GPT_HEADER_MIN_SIZE) return null;
  let sig = "";
  for (let i = 0; i < 8; i++) sig += String.fromCharCode(sector[i]);
  if (sig !== GPT_SIGNATURE) return null;
  const dv = new DataView(sector.buffer, sector.byteOffset, sector.length);
  const headerSize = dv.getUint32(12, true);
  const headerCrc = dv.getUint32(16, true);
  let headerCrcValid = false;
  if (headerSize >= GPT_HEADER_MIN_SIZE && headerSize <= sector.length) {
    const copy = sector.slice(0, headerSize);
    copy.fill(0, 16, 20);
    headerCrcValid = crc32(copy) === headerCrc;
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
    diskGuid: guidText(sector, 56),
    entriesLba: u64(dv, 72),
    entryCount: dv.getUint32(80, true),
    entrySize: dv.getUint32(84, true),
    entriesCrc: dv.getUint32(88, true),
  };
}

/** The used entries of an entry array (type GUID not zero). */
export function parseGptEntries(array: Uint8Array, entrySize: number): GptPartition[] {
  const out: GptPartition[] = [];
  if (entrySize < GPT_ENTRY_MIN_SIZE) return out;
  const count = Math.floor(array.length / entrySize);
  for (let i = 0; i < count; i++) {
    const e = array.subarray(i * entrySize, (i + 1) * entrySize);
    const typeGuid = guidText(e, 0);
    if (typeGuid === ZERO_GUID) continue;
    const dv = new DataView(e.buffer, e.byteOffset, e.length);
    let name = "";
    for (let c = 0; c < 36; c++) {
      const code = dv.getUint16(56 + c * 2, true);
      if (code === 0) break;
      name += String.fromCharCode(code);
    }
    out.push({
      index: i,
      typeGuid,
      typeName: GPT_TYPES[typeGuid] ?? "unknown",
      uniqueGuid: guidText(e, 16),
      firstLba: u64(dv, 32),
      lastLba: u64(dv, 40),
      attributes: "0x" + dv.getUint32(52, true).toString(16).padStart(8, "0") + hexU32(dv.getUint32(48, true)),
      name,
    });
  }
  return out;
}

const hexU32 = (n: number) => n.toString(16).padStart(8, "0");

/** Why a header cannot be used, or null when it can (signature, size, CRC, its own LBA, array bounds). */
export function gptHeaderProblem(
  h: GptHeader | null,
  expectedLba: number,
  sectorSize: number,
  diskBytes: number,
): string | null {
  if (!h) return "no EFI PART signature";
  if (h.headerSize < GPT_HEADER_MIN_SIZE || h.headerSize > sectorSize)
    return `header size ${h.headerSize} is not 92–${sectorSize}`;
  if (!h.headerCrcValid) return "header CRC32 does not match";
  if (h.myLba !== expectedLba) return `MyLBA is ${h.myLba}, not ${expectedLba}`;
  if (
    h.entrySize < GPT_ENTRY_MIN_SIZE ||
    h.entrySize % GPT_ENTRY_MIN_SIZE !== 0 ||
    (h.entrySize & (h.entrySize - 1)) !== 0
  )
    return `partition entry size ${h.entrySize} is not 128 × 2^n`;
  const bytes = h.entryCount * h.entrySize;
  if (bytes > GPT_MAX_ARRAY_BYTES)
    return `the partition entry array (${h.entryCount} × ${h.entrySize} bytes) is larger than ${GPT_MAX_ARRAY_BYTES} bytes`;
  if (h.entriesLba * sectorSize + bytes > diskBytes)
    return `the partition entry array at LBA ${h.entriesLba} runs past the end of the disk`;
  return null;
}

export interface GptRead {
  /** The table used: the primary when it is sound, else the backup; null when neither is. */
  gpt: Gpt | null;
  source: "primary" | "backup" | null;
  /** The header that was read at LBA 1, sound or not (for the hex view). */
  primary: Gpt | null;
}

async function readCopy(
  device: BlockDevice,
  lba: number,
  sectorSize: number,
): Promise<{ gpt: Gpt | null; problem: string | null }> {
  const at = lba * sectorSize;
  if (at < 0 || at + sectorSize > device.size) return { gpt: null, problem: "it lies past the end of the disk" };
  const h = parseGptHeader(await device.read(at, sectorSize));
  const problem = gptHeaderProblem(h, lba, sectorSize, device.size);
  if (!h) return { gpt: null, problem };
  let entriesCrcValid = false;
  let partitions: GptPartition[] = [];
  const bytes = h.entryCount * h.entrySize;
  const start = h.entriesLba * sectorSize;
  if (!problem || (bytes <= GPT_MAX_ARRAY_BYTES && start + bytes <= device.size && h.entrySize >= GPT_ENTRY_MIN_SIZE)) {
    const array = await device.read(start, bytes);
    entriesCrcValid = crc32(array) === h.entriesCrc;
    partitions = parseGptEntries(array, h.entrySize);
  }
  const gpt: Gpt = { ...h, entriesCrcValid, partitions };
  return { gpt, problem: problem ?? (entriesCrcValid ? null : "partition entry array CRC32 does not match") };
}

/** Reads both GPT copies; the primary wins when sound, the backup stands in for it with a finding. */
export async function readGpt(device: BlockDevice, sectorSize: number, findings: FsFinding[]): Promise<GptRead> {
  const lastLba = Math.floor(device.size / sectorSize) - 1;
  const p = await readCopy(device, 1, sectorSize);
  const backupLba = p.gpt && !p.problem && p.gpt.alternateLba <= lastLba ? p.gpt.alternateLba : lastLba;
  const b = backupLba > 1 ? await readCopy(device, backupLba, sectorSize) : { gpt: null, problem: "no room for it" };
  if (!p.problem) {
    if (b.problem)
      findings.push({
        severity: "warning",
        code: "GPT_BACKUP_DAMAGED",
        message: `the backup GPT header at LBA ${backupLba} cannot be used: ${b.problem}`,
        structure: "backup GPT header",
        offset: backupLba * sectorSize,
      });
    else if (b.gpt!.entriesCrc !== p.gpt!.entriesCrc)
      findings.push({
        severity: "warning",
        code: "GPT_COPIES_DIFFER",
        message: "the backup partition entry array differs from the primary; the primary is used",
        structure: "backup GPT partition entry array",
        offset: b.gpt!.entriesLba * sectorSize,
      });
    return { gpt: p.gpt, source: "primary", primary: p.gpt };
  }
  if (!b.problem) {
    findings.push({
      severity: "warning",
      code: "GPT_PRIMARY_DAMAGED",
      message: `the primary GPT cannot be used (${p.problem}); the backup at LBA ${backupLba} is used`,
      structure: "primary GPT header",
      offset: sectorSize,
    });
    return { gpt: b.gpt, source: "backup", primary: p.gpt };
  }
  findings.push({
    severity: "error",
    code: "GPT_UNUSABLE",
    message: `neither GPT copy can be used: primary (${p.problem}), backup at LBA ${backupLba} (${b.problem})`,
    structure: "primary GPT header",
    offset: sectorSize,
  });
  return { gpt: null, source: null, primary: p.gpt };
}

/**
 * The primary GPT as far as `bytes` (the disk from LBA 0) reaches: header and entry array, sound
 * or not, for annotating the bytes. `readGpt` is what decides which copy to trust.
 */
export function parseGpt(bytes: Uint8Array, sectorSize: number): Gpt | null {
  if (bytes.length < sectorSize * 2) return null;
  const h = parseGptHeader(bytes.subarray(sectorSize, sectorSize * 2));
  if (!h) return null;
  const start = h.entriesLba * sectorSize;
  const length = h.entryCount * h.entrySize;
  let entriesCrcValid = false;
  let partitions: GptPartition[] = [];
  if (h.entrySize >= GPT_ENTRY_MIN_SIZE && start + length <= bytes.length) {
    const array = bytes.subarray(start, start + length);
    entriesCrcValid = crc32(array) === h.entriesCrc;
    partitions = parseGptEntries(array, h.entrySize);
  }
  return { ...h, entriesCrcValid, partitions };
}
