/** The partition area of the open image's virtual disk (MBR, primary GPT), decoded by the file-system layer. */
import { readPartitionArea, type PartitionArea } from "../fs/partitions/volumes";
import type { BlockDevice } from "../fs/types";
import { current, getVhdSession } from "./state";

/** LBA 0–33 (or the first six sectors of 4 KiB) as they are on the virtual disk, sound or not. */
export async function partitionArea(): Promise<PartitionArea> {
  const v = getVhdSession();
  // A VHD has 512-byte sectors throughout.
  if (v) return readPartitionArea({ size: v.image.virtualSize, read: (o, l) => v.image.read(o, l) }, 512);
  const s = current();
  const img = s.image;
  const device: BlockDevice = {
    size: img.virtualSize,
    // While a writer exists, its gate keeps reads from seeing half a commit.
    read: (o, l) => (s.writer ? s.writer.gate.read(() => img.read(o, l)) : img.read(o, l)),
  };
  return readPartitionArea(device, img.params.logicalSectorSize);
}
