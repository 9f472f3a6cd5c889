/**
 * Opening a disk for the file-system commands: a VHDX (through its differencing chain, a dirty
 * log replayed in memory, exactly as `vhdx cat` opens it) or a raw disk image, as a BlockDevice;
 * then the volume a command works on.
 */
import { FsError } from "../fs/errors";
import { listVolumes, volumeDevice, type Volume, type VolumeTable } from "../fs/partitions/volumes";
import type { BlockDevice } from "../fs/types";
import { NodeFileBackend } from "../node/fileBackend";
import { detectFormat, type DiskFormat } from "../vhd/open";
import { flagString, ParsedArgs, UsageError } from "./args";
import { formatSize } from "./format";

export interface OpenDisk {
  device: BlockDevice;
  sectorSize: number;
  /**
   * The disk's bytes [offset, offset + length) as a stream of pieces, each valid until the next
   * is asked for: for a VHDX the path `vhdx cat` takes (reads ahead, buffers reused).
   */
  segments?(offset: number, length: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export async function openDisk(path: string): Promise<OpenDisk> {
  const probe = await NodeFileBackend.open(path, { readOnly: true });
  let format: DiskFormat;
  try {
    format = await detectFormat(probe);
  } finally {
    await probe.close();
  }
  const isVhdx = format === "vhdx";
  if (format === "vhd") {
    const [{ openVhdWithParents }, { closeVhdChain }] = await Promise.all([
      import("../node/resolveVhdParent"),
      import("../vhd/chain"),
    ]);
    const { image, chain } = await openVhdWithParents(path);
    return {
      device: { size: image.virtualSize, read: (o, l) => image.read(o, l) },
      sectorSize: 512,
      segments: (o, l) => image.segments(o, l),
      close: () => closeVhdChain(chain),
    };
  }
  if (isVhdx) {
    const [{ openWithParents }, { closeChain }] = await Promise.all([
      import("../node/resolveParent"),
      import("../vhdx/chain"),
    ]);
    const { image, chain } = await openWithParents(path);
    return {
      device: { size: image.virtualSize, read: (o, l) => image.read(o, l) },
      sectorSize: image.params.logicalSectorSize,
      segments: (o, l) => image.segments(o, l, { reuse: true }),
      close: () => closeChain(chain),
    };
  }
  // A raw disk is read as it is: no hole lookup (RawFileDisk's), which only streaming copies use.
  const raw = await NodeFileBackend.open(path, { readOnly: true });
  const size = await raw.size();
  return { device: { size, read: (o, l) => raw.read(o, l) }, sectorSize: 512, close: () => raw.close() };
}

/** One line per volume, for `vhdx partitions` and the "choose one" message. */
export function volumeLines(t: VolumeTable): string[] {
  return t.volumes.map((v) => {
    const what = v.extended ? "extended" : (v.fileSystem ?? "no file system");
    const label = v.label ? ` "${v.label}"` : "";
    return `  ${String(v.number).padStart(2)}  ${formatSize(v.size).padStart(10)} at ${v.start}  ${v.typeName}${label}  [${what}]`;
  });
}

export type Chosen = { volume: Volume; device: BlockDevice } | { ambiguous: VolumeTable };

/** The volume `--partition N` names, or the one volume with a file system. */
export async function chooseVolume(a: ParsedArgs, disk: OpenDisk): Promise<Chosen> {
  const t = await listVolumes(disk.device, disk.sectorSize);
  const asked = flagString(a, "partition");
  if (asked !== undefined) {
    if (!/^\d+$/.test(asked))
      throw new UsageError(`--partition takes a partition number (got ${JSON.stringify(asked)})`);
    const v = t.volumes.find((x) => x.number === Number(asked) && !x.extended);
    if (!v)
      throw new FsError(
        "PARTITION_NOT_FOUND",
        `the disk has no partition ${asked} (see vhdx partitions)`,
        "partition table",
      );
    return { volume: v, device: volumeDevice(disk.device, v) };
  }
  const withFs = t.volumes.filter((v) => v.fileSystem !== null);
  if (withFs.length === 1) return { volume: withFs[0], device: volumeDevice(disk.device, withFs[0]) };
  if (withFs.length === 0)
    throw new FsError("FS_UNKNOWN", "no known file system on the disk (see vhdx partitions)", "disk", 0);
  return { ambiguous: t };
}
