import type { BlockDevice } from "../types";
import { listVolumes } from "./volumes";

/** A volume (or the partition table itself) that a shrunk disk would cut. */
export interface CutVolume {
  /** As listVolumes numbers it; -1 for the GPT's backup header and entries at the disk's end. */
  number: number;
  start: number;
  end: number;
  what: string;
}

/**
 * What ends past `newEnd` of `device`: each partition (or the whole-disk file system) and, for GPT,
 * the backup header in the disk's last sector. Resizing a disk changes no partition table and no
 * file system inside it; this is what a shrink would leave cut short.
 */
export async function volumesPastEnd(device: BlockDevice, sectorSize: number, newEnd: number): Promise<CutVolume[]> {
  if (newEnd >= device.size) return [];
  const table = await listVolumes(device, sectorSize);
  const out: CutVolume[] = [];
  for (const v of table.volumes) {
    const end = v.start + v.size;
    // A whole disk with no file system found holds nothing a shrink could cut short.
    if (end <= newEnd || (v.number === 0 && !v.fileSystem)) continue;
    const fs = v.fileSystem
      ? `${v.fileSystem} file system`
      : v.extended
        ? "extended partition"
        : "no file system found";
    const name = v.number === 0 ? "the whole disk" : `partition ${v.number}`;
    out.push({ number: v.number, start: v.start, end, what: `${name} (${v.typeName}, ${fs})` });
  }
  // GPT keeps a backup header in the disk's last sector: a shrink leaves it behind.
  if (table.scheme === "gpt")
    out.push({ number: -1, start: device.size - sectorSize, end: device.size, what: "the GPT backup header" });
  return out;
}
