/**
 * A VHD (v1) disk open in the editor: found by its signatures when opening, read from a snapshot
 * of the file (a Blob), never written. The structure views get `vhdInfo` and `vhdBat`; the hex
 * view's reads and the Files view go through the same `VirtualDisk` as a VHDX's.
 */
import { detectFormat, openVhd } from "../vhd/open";
import { vhdInfo as infoOf, type VhdInfo } from "../vhd/info";
import type { VhdImage } from "../vhd/image";
import { VhdxError } from "../vhdx/errors";
import { transfer, type Transfer } from "./protocol";
import type { OpenSource } from "./session";
import { getVhdSession } from "./state";
import { BlobBackend } from "./storage/blobBackend";
import { ChunkCache } from "./storage/chunkCache";
import { normalizeOpfsPath, opfsFile } from "./storage/opfs";
import { CHUNK_CACHE_BUDGET } from "./session";
import { closeVhdParents } from "./vhdChain";

/** Why a VHD is open read-only, for the UI to say. */
export const VHD_READ_ONLY_REASON =
  "VHD (v1) disks are opened read-only; convert it to VHDX (Toolbox → Convert…) to edit it";

export interface VhdSession {
  name: string;
  backend: BlobBackend;
  cache: ChunkCache;
  image: VhdImage;
  readOnlyReason: string;
}

/** The file behind a source as it is now (a snapshot: nothing of it is written). */
async function snapshot(source: OpenSource): Promise<{ file: Blob; name: string }> {
  if (source.kind === "file") return { file: source.file, name: source.file.name };
  if (source.kind === "handle") return { file: await source.handle.getFile(), name: source.handle.name };
  const path = normalizeOpfsPath(source.path);
  return { file: await (await opfsFile(path)).getFile(), name: path };
}

/** Opens `source` as a VHD when its signatures say it is one; null for anything else (VHDX, raw). */
export async function openVhdSession(source: OpenSource): Promise<VhdSession | null> {
  const { file, name } = await snapshot(source);
  const cache = new ChunkCache({ chunkSize: 64 * 1024, budgetBytes: CHUNK_CACHE_BUDGET });
  const backend = new BlobBackend(file, { cache, name });
  try {
    if ((await detectFormat(backend)) !== "vhd") {
      await backend.close();
      return null;
    }
    const image = await openVhd(backend);
    return { name, backend, cache, image, readOnlyReason: VHD_READ_ONLY_REASON };
  } catch (e) {
    await backend.close().catch(() => undefined);
    throw e;
  }
}

export async function closeVhdSession(s: VhdSession): Promise<void> {
  try {
    await closeVhdParents(s.image);
    await s.backend.close();
  } finally {
    s.cache.clear();
  }
}

function currentVhd(): VhdSession {
  const s = getVhdSession();
  if (!s) throw new VhdxError("INVALID_ARGUMENT", "No VHD is open", "engine");
  return s;
}

/** The open VHD's footer, its copy at 0, dynamic header, BAT summary and parent locators (`vhdx info --json`). */
export async function vhdInfo(): Promise<VhdInfo> {
  return infoOf(currentVhd().image);
}

/**
 * The open VHD's BAT: one u32 per block, the block's sector number in the file, 0xFFFFFFFF for
 * a block not allocated. Empty for a fixed disk.
 */
export async function vhdBat(): Promise<Transfer<Uint32Array>> {
  const bat = currentVhd().image.bat;
  const out = bat ? bat.entries.slice() : new Uint32Array(0);
  return transfer(out, [out.buffer]);
}
