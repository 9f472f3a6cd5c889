/**
 * The volumes of a disk: the partitions of its GPT or MBR, or the whole disk when a file system
 * starts at offset 0 (how WSL and Docker lay out their ext4 disks). Each with the file system
 * its signature names.
 */
import { SliceDevice } from "../device";
import { detectFileSystem } from "../registry";
import type { BlockDevice, FsFinding } from "../types";
import { parseGpt, readGpt, type Gpt } from "./gpt";
import { looksLikeMbr, MBR_EXTENDED_TYPES, parseMbr, readMbrVolumes, type Mbr } from "./mbr";

export type PartitionScheme = "gpt" | "mbr" | "none";

export interface Volume {
  /** GPT: entry index + 1; MBR: 1–4 primary, 5+ logical; the whole disk: 0. */
  number: number;
  /** Bytes from the start of the disk. */
  start: number;
  size: number;
  /** GPT: the partition type GUID; MBR: the type byte as 0x-hex; the whole disk: "". */
  type: string;
  typeName: string;
  /** GPT partition name; "" elsewhere. */
  label: string;
  /** The driver whose signature the volume carries ("fat", "ext" …), or null. */
  fileSystem: string | null;
  /** An MBR extended partition: a container of logical partitions, never a file system. */
  extended?: boolean;
  /** Problems with this volume's entry (runs past the disk …). */
  findings?: FsFinding[];
}

export interface VolumeTable {
  scheme: PartitionScheme;
  sectorSize: number;
  volumes: Volume[];
  findings: FsFinding[];
  /** For GPT: which copy was used. */
  gptSource?: "primary" | "backup" | null;
}

/** The whole disk as one volume, numbered 0. */
async function wholeDisk(device: BlockDevice, sectorSize: number, findings: FsFinding[]): Promise<VolumeTable> {
  const d = await detectFileSystem(device);
  return {
    scheme: "none",
    sectorSize,
    findings,
    volumes: [
      {
        number: 0,
        start: 0,
        size: device.size,
        type: "",
        typeName: "whole disk",
        label: "",
        fileSystem: d?.name ?? null,
      },
    ],
  };
}

/** Lists the disk's volumes. `sectorSize` is the disk's logical sector size (GPT and MBR count in it). */
export async function listVolumes(device: BlockDevice, sectorSize = 512): Promise<VolumeTable> {
  const findings: FsFinding[] = [];
  if (device.size < sectorSize * 2) return wholeDisk(device, sectorSize, findings);
  const head = await device.read(0, sectorSize * 2);
  const mbr = parseMbr(head.subarray(0, 512));
  const hasGptSignature = String.fromCharCode(...head.subarray(sectorSize, sectorSize + 8)) === "EFI PART";
  if (hasGptSignature || mbr?.protective) {
    const r = await readGpt(device, sectorSize, findings);
    const volumes: Volume[] = [];
    for (const p of r.gpt?.partitions ?? []) {
      const start = p.firstLba * sectorSize;
      const size = p.lastLba >= p.firstLba ? (p.lastLba - p.firstLba + 1) * sectorSize : 0;
      volumes.push(
        await withFileSystem(device, {
          number: p.index + 1,
          start,
          size,
          type: p.typeGuid,
          typeName: p.typeName,
          label: p.name,
          fileSystem: null,
        }),
      );
    }
    return { scheme: "gpt", sectorSize, volumes, findings, gptSource: r.source };
  }
  if (await detectFileSystem(device)) return wholeDisk(device, sectorSize, findings);
  if (!looksLikeMbr(mbr, head)) return wholeDisk(device, sectorSize, findings);
  const volumes: Volume[] = [];
  for (const v of await readMbrVolumes(device, mbr, sectorSize, findings)) {
    const base: Volume = {
      number: v.number,
      start: v.start,
      size: v.size,
      type: "0x" + v.type.toString(16).padStart(2, "0"),
      typeName: v.typeName,
      label: "",
      fileSystem: null,
    };
    if (MBR_EXTENDED_TYPES.includes(v.type) && !v.logical) volumes.push({ ...base, extended: true });
    else volumes.push(await withFileSystem(device, base));
  }
  return { scheme: "mbr", sectorSize, volumes, findings };
}

/** The volume with the file system found in it; a volume that runs past the disk gets a finding instead. */
async function withFileSystem(device: BlockDevice, v: Volume): Promise<Volume> {
  if (v.size === 0 || v.start + v.size > device.size) {
    const finding: FsFinding = {
      severity: "error",
      code: "PARTITION_OUT_OF_RANGE",
      message: `partition ${v.number} (${v.size} bytes at ${v.start}) runs past the end of the disk (${device.size} bytes) or is empty`,
      structure: `partition ${v.number}`,
      offset: v.start,
    };
    return { ...v, findings: [finding] };
  }
  const d = await detectFileSystem(new SliceDevice(device, v.start, v.size));
  return { ...v, fileSystem: d?.name ?? null };
}

/** The device of one volume. */
export function volumeDevice(device: BlockDevice, v: Volume): BlockDevice {
  return v.start === 0 && v.size === device.size ? device : new SliceDevice(device, v.start, v.size);
}

/** What the first LBAs of a disk hold, decoded as they are (sound or not), for annotating them. */
export interface PartitionArea {
  mbr: Mbr | null;
  gpt: Gpt | null;
}

/** Bytes needed to decode LBA 0–33 (the GPT entry array ends at LBA 33 with 512-byte sectors). */
export function partitionAreaLength(sectorSize: number): number {
  return sectorSize === 512 ? 34 * 512 : 6 * sectorSize;
}

/** Decodes the MBR and the primary GPT from the disk's first bytes (see partitionAreaLength). */
export function parsePartitionArea(bytes: Uint8Array, sectorSize: number): PartitionArea {
  return { mbr: parseMbr(bytes.subarray(0, 512)), gpt: parseGpt(bytes, sectorSize) };
}

/** Reads and decodes the partition area of a device. */
export async function readPartitionArea(device: BlockDevice, sectorSize: number): Promise<PartitionArea> {
  const len = Math.min(partitionAreaLength(sectorSize), device.size);
  return parsePartitionArea(await device.read(0, len), sectorSize);
}
