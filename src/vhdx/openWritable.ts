import { isZeroGuid } from "./guid";
import { openImage, VhdxImage } from "./image";
import { RandomAccess } from "./io";
import { HeaderUpdater, replayLogInPlace, scanLog } from "./log";

/**
 * Opens an image for writing. §2.3.3: a log holding an active sequence is replayed into the file
 * first (and marked empty), so every write starts from the state the last commit left.
 */
export async function openWritable(file: RandomAccess): Promise<VhdxImage> {
  const updater = await HeaderUpdater.load(file);
  if (!isZeroGuid(updater.current.logGuid)) {
    const scan = await scanLog(file, updater.current);
    await replayLogInPlace(updater, scan);
  }
  return openImage(file, { readOnly: false });
}
