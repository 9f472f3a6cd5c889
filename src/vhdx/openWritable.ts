import { openImage, VhdxImage } from "./image";
import { RandomAccess } from "./io";

/**
 * Opens an image for writing. §2.3.3: a log holding an active sequence is replayed into the file
 * first (and marked empty), so every write starts from the state the last commit left.
 */
export function openWritable(file: RandomAccess): Promise<VhdxImage> {
  return openImage(file, { readOnly: false, replay: "in-place" });
}
