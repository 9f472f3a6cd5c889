/**
 * The master boot record and the extended boot records of an extended partition (the MBR
 * partition table: four 16-byte entries at byte 446 of LBA 0, signature 55 AA at byte 510).
 * Linux numbering: the four primary slots are partitions 1–4, logical partitions 5 onwards in
 * the order of the EBR chain.
 */
import type { BlockDevice, FsFinding } from "../types";

export const MBR_SIGNATURE_OFFSET = 510;
export const MBR_ENTRIES_OFFSET = 446;
export const MBR_ENTRY_SIZE = 16;
export const MBR_TYPE_PROTECTIVE = 0xee;
/** CHS extended, LBA extended, Linux extended. */
export const MBR_EXTENDED_TYPES: readonly number[] = [0x05, 0x0f, 0x85];
/** Logical partitions followed at most: the EBR chain is a linked list on the disk. */
export const MAX_LOGICAL_PARTITIONS = 256;

export const MBR_TYPES: Readonly<Record<number, string>> = {
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
  0x85: "Linux extended",
  0x8e: "Linux LVM",
  0xee: "GPT protective",
  0xef: "EFI system",
  0xfd: "Linux RAID",
};

export interface MbrPartition {
  /** 0–3: the entry's place in the table. */
  slot: number;
  bootable: boolean;
  /** The partition type (system id) byte. */
  type: number;
  typeName: string;
  firstLba: number;
  sectors: number;
}

export interface Mbr {
  signatureValid: boolean;
  diskSignature: number;
  /** Entries whose type is not 0, in slot order. */
  partitions: MbrPartition[];
  protective: boolean;
}

/** The table of a boot record (MBR or EBR), or null when it has no signature and no entries. */
export function parseMbr(sector0: Uint8Array): Mbr | null {
  if (sector0.length < 512) return null;
  const dv = new DataView(sector0.buffer, sector0.byteOffset, 512);
  const signatureValid = sector0[MBR_SIGNATURE_OFFSET] === 0x55 && sector0[MBR_SIGNATURE_OFFSET + 1] === 0xaa;
  const partitions: MbrPartition[] = [];
  for (let slot = 0; slot < 4; slot++) {
    const at = MBR_ENTRIES_OFFSET + slot * MBR_ENTRY_SIZE;
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
    protective: partitions.some((p) => p.type === MBR_TYPE_PROTECTIVE),
  };
}

/** One entry of a boot record: 16 bytes, the status byte 0x00 or 0x80. */
export function serializeMbrEntry(p: Omit<MbrPartition, "slot" | "typeName">): Uint8Array {
  const b = new Uint8Array(MBR_ENTRY_SIZE);
  const dv = new DataView(b.buffer);
  b[0] = p.bootable ? 0x80 : 0;
  b[4] = p.type;
  dv.setUint32(8, p.firstLba, true);
  dv.setUint32(12, p.sectors, true);
  return b;
}

/**
 * True when LBA 0 reads as a partition table: the signature, status bytes 0x00 or 0x80, and
 * at least one entry. A FAT boot sector also ends in 55 AA; its boot code in bytes 446–509 rarely
 * passes, and callers probe for a file system at offset 0 before asking.
 */
export function looksLikeMbr(mbr: Mbr | null, sector0: Uint8Array): mbr is Mbr {
  if (!mbr || !mbr.signatureValid || mbr.partitions.length === 0) return false;
  for (let slot = 0; slot < 4; slot++) {
    const status = sector0[MBR_ENTRIES_OFFSET + slot * MBR_ENTRY_SIZE];
    if (status !== 0 && status !== 0x80) return false;
  }
  return true;
}

/** A partition of a plain MBR disk, numbered as Linux numbers it. */
export interface MbrVolume {
  number: number;
  /** Bytes from the start of the disk. */
  start: number;
  size: number;
  type: number;
  typeName: string;
  bootable: boolean;
  logical: boolean;
  /** Byte offset of the entry that describes it. */
  entryOffset: number;
}

/**
 * The partitions of an MBR disk: primaries 1–4 by slot, logical partitions 5 onwards along the
 * EBR chain. The extended partition itself is listed (as Linux lists it). Each EBR's first entry
 * is a logical partition relative to that EBR, its second the next EBR relative to the extended
 * partition's start. The chain is bounded: a loop or an EBR outside the extended partition ends
 * it with a finding.
 */
export async function readMbrVolumes(
  device: BlockDevice,
  mbr: Mbr,
  sectorSize: number,
  findings: FsFinding[],
): Promise<MbrVolume[]> {
  const out: MbrVolume[] = [];
  let extended: MbrPartition | null = null;
  for (const p of mbr.partitions) {
    out.push({
      number: p.slot + 1,
      start: p.firstLba * sectorSize,
      size: p.sectors * sectorSize,
      type: p.type,
      typeName: p.typeName,
      bootable: p.bootable,
      logical: false,
      entryOffset: MBR_ENTRIES_OFFSET + p.slot * MBR_ENTRY_SIZE,
    });
    if (MBR_EXTENDED_TYPES.includes(p.type)) {
      if (extended) {
        findings.push({
          severity: "warning",
          code: "MBR_SECOND_EXTENDED",
          message: `MBR slot ${p.slot + 1} is a second extended partition; only the first is followed`,
          structure: "MBR",
          offset: MBR_ENTRIES_OFFSET + p.slot * MBR_ENTRY_SIZE,
        });
      } else extended = p;
    }
  }
  if (extended) out.push(...(await readLogical(device, extended, sectorSize, findings)));
  return out;
}

async function readLogical(
  device: BlockDevice,
  ext: MbrPartition,
  sectorSize: number,
  findings: FsFinding[],
): Promise<MbrVolume[]> {
  const out: MbrVolume[] = [];
  const extStart = ext.firstLba;
  const extEnd = ext.firstLba + ext.sectors;
  const seen = new Set<number>();
  let ebrLba = extStart;
  const problem = (message: string, offset: number) =>
    findings.push({ severity: "error", code: "MBR_EBR_CHAIN", message, structure: "EBR", offset });
  for (let n = 0; ; n++) {
    const at = ebrLba * sectorSize;
    if (n >= MAX_LOGICAL_PARTITIONS) {
      problem(`the EBR chain has more than ${MAX_LOGICAL_PARTITIONS} links; the rest is not followed`, at);
      break;
    }
    if (seen.has(ebrLba)) {
      problem(`the EBR chain loops back to LBA ${ebrLba}`, at);
      break;
    }
    seen.add(ebrLba);
    if (ebrLba < extStart || ebrLba >= extEnd || at + 512 > device.size) {
      problem(`an EBR at LBA ${ebrLba} lies outside the extended partition (LBA ${extStart}–${extEnd - 1})`, at);
      break;
    }
    const sector = await device.read(at, 512);
    const ebr = parseMbr(sector);
    if (!ebr || !ebr.signatureValid) {
      problem(`the EBR at LBA ${ebrLba} has no 55 AA signature`, at + MBR_SIGNATURE_OFFSET);
      break;
    }
    const dv = new DataView(sector.buffer, sector.byteOffset, 512);
    const e0 = MBR_ENTRIES_OFFSET;
    const type0 = sector[e0 + 4];
    const rel0 = dv.getUint32(e0 + 8, true);
    const len0 = dv.getUint32(e0 + 12, true);
    if (type0 !== 0 && len0 > 0) {
      out.push({
        number: 5 + out.length,
        start: (ebrLba + rel0) * sectorSize,
        size: len0 * sectorSize,
        type: type0,
        typeName: MBR_TYPES[type0] ?? "unknown",
        bootable: sector[e0] === 0x80,
        logical: true,
        entryOffset: at + e0,
      });
    }
    const e1 = MBR_ENTRIES_OFFSET + MBR_ENTRY_SIZE;
    const type1 = sector[e1 + 4];
    const rel1 = dv.getUint32(e1 + 8, true);
    if (type1 === 0 || !MBR_EXTENDED_TYPES.includes(type1) || rel1 === 0) break;
    ebrLba = extStart + rel1;
  }
  return out;
}
