/**
 * The file-system drivers, and finding which one a device holds: by signature (each driver's
 * `probe` on the device's first 64 KiB), never by a partition's type.
 */
import { FsError } from "./errors";
import { exfatDriver } from "./exfat/fileSystem";
import { extDriver } from "./ext4";
import { fatDriver } from "./fat/fileSystem";
import { ntfsDriver } from "./ntfs/fileSystem";
import type { BlockDevice, FileSystem, FsDriver } from "./types";

export const PROBE_BYTES = 64 * 1024;

/** In probing order: the formats with an unmistakable signature first, FAT (known by its BPB) last. */
export const FS_DRIVERS: FsDriver[] = [ntfsDriver, exfatDriver, extDriver, fatDriver];

/** The driver whose signature the device carries, or null. */
export async function detectFileSystem(device: BlockDevice): Promise<FsDriver | null> {
  if (device.size < 512) return null;
  const head = await device.read(0, Math.min(PROBE_BYTES, device.size));
  for (const d of FS_DRIVERS) if (d.probe(head, device)) return d;
  return null;
}

/** Mounts the file system the device holds, or throws FS_UNKNOWN. */
export async function mount(device: BlockDevice): Promise<FileSystem> {
  const d = await detectFileSystem(device);
  if (!d) throw new FsError("FS_UNKNOWN", "no known file system signature", "volume", 0);
  return d.mount(device);
}
