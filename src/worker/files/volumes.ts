/** The disk's volumes as the Files view lists them: each partition (or the whole disk) and the file system found in it. */
import { SliceDevice } from "../../fs/device";
import { listVolumes } from "../../fs/partitions/volumes";
import { mount } from "../../fs/registry";
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

export async function discoverVolumes(
  disk: BlockDevice,
  sectorSize: number,
): Promise<{ volumes: DiskVolume[]; findings: FsFinding[] }> {
  const r = await listVolumes(disk, sectorSize);
  const findings = [...r.findings];
  const volumes: DiskVolume[] = [];
  for (const v of r.volumes) {
    // An MBR extended partition only holds the logical ones, listed on their own.
    if (v.extended) continue;
    if (v.findings) findings.push(...v.findings);
    volumes.push({
      index: volumes.length,
      number: r.scheme === "none" ? null : v.number,
      scheme: r.scheme,
      start: v.start,
      size: v.size,
      type: v.type,
      typeName: v.typeName,
      name: v.label,
      fsType: v.fileSystem,
    });
  }
  return { volumes, findings };
}

export function mountOn(disk: BlockDevice, v: DiskVolume): Promise<FileSystem> {
  return mount(new SliceDevice(disk, v.start, v.size));
}
