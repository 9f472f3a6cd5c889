/**
 * The raw file of an image whose log awaits replay, both ways: the engine reads it as replayed
 * (an in-memory overlay, §2.3.3 note <5>), and these methods say which ranges the overlay holds
 * and read the file as it is on disk, so the hex view can mark replayed bytes and show either.
 */
import { VhdxError } from "../vhdx/errors";
import { OverlayBackend } from "../vhdx/log";
import { transfer, type CallContext, type Transfer } from "./protocol";
import { current } from "./state";

export interface ReplayedRanges {
  /** Sector-aligned file ranges whose bytes come from the in-memory replay, sorted. */
  ranges: { start: number; length: number }[];
  /** The file's size on disk, and as replayed (a replay may grow the file). */
  diskSize: number;
  replayedSize: number;
}

/** Where the raw file view differs from the file on disk; no ranges when nothing was replayed in memory. */
export async function replayedRanges(): Promise<ReplayedRanges> {
  const img = current().image;
  const diskSize = await img.file.size();
  if (!img.logNeedsReplay || !(img.io instanceof OverlayBackend)) {
    return { ranges: [], diskSize, replayedSize: diskSize };
  }
  return { ranges: img.io.changedRanges(), diskSize, replayedSize: await img.io.size() };
}

/** Raw file bytes as they are on disk, without the in-memory replay; at most 64 MiB a call. */
export async function readOnDisk(_ctx: CallContext, offset: number, length: number): Promise<Transfer<Uint8Array>> {
  if (
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    !Number.isSafeInteger(length) ||
    length < 0 ||
    length > 64 * 1024 * 1024
  )
    throw new VhdxError("INVALID_ARGUMENT", `a read of ${length} bytes at ${offset} is out of range`, "read", offset);
  const file = current().image.file;
  const n = Math.max(0, Math.min(length, (await file.size()) - offset));
  const out = (await file.read(offset, n)).slice();
  return transfer(out, [out.buffer]);
}
