/** The disk's volumes as the Files view lists them: each partition (or the whole disk) and the file system found in it. */
import { SliceDevice } from "../../fs/device";
import { listVolumes } from "../../fs/partitions/volumes";
import { mountFileSystem } from "../../fs/registry";
import type { BlockDevice, FileSystem, FsFinding } from "../../fs/types";

export interface DiskVolume {
  /** Position in the list, the handle the page uses. */
  index: number;
  /** The partition number as Linux numbers them (1–4 primary, 5+ logical); null for a whole-disk file system. */
  number: number | null;
  scheme: "gpt" | "mbr" | "none";
  /** Bytes from the start of the virtual disk. */
  start: number;
  size: number;
  /** GPT type GUID or MBR type byte (hex), and its name. */
  type: string;
  typeName: string;
  /** The GPT partition name, "" for MBR. */
  name: string;
  /** The file system the probe found by signature, or null. */
  fsType: string | null;
}

export async function discoverVolumes(disk: BlockDevice): Promise<{ volumes: DiskVolume[]; findings: FsFinding[] }> {
  const r = await listVolumes(disk);
  return {
    findings: r.findings,
    volumes: r.volumes.map((v, index) => ({
      index,
      number: v.number,
      scheme: v.scheme,
      start: v.start,
      size: v.size,
      type: v.type,
      typeName: v.typeName,
      name: v.name,
      fsType: v.fsType,
    })),
  };
}

export function mountOn(disk: BlockDevice, v: DiskVolume): Promise<FileSystem> {
  return mountFileSystem(new SliceDevice(disk, v.start, v.size));
}
