/**
 * Differencing chains in the browser: the parent locator's paths, the parents the user gives
 * (picked files, or a folder granted once where relative_path is resolved), the identity check
 * before anything is shown, the chain's summary, and per sector which image supplies it.
 */
import { PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_PARTIALLY_PRESENT, payloadEntryIndex } from "../vhdx/bat";
import { attachParents, PARENT_PATH_KEYS, type ParentPathKey, type ParentResolver } from "../vhdx/chain";
import { VhdxError } from "../vhdx/errors";
import type { DiskType, VhdxImage } from "../vhdx/image";
import { partialPresence, sectorLayers, type PartialPresence } from "../vhdx/layers";
import { locatorValue } from "../vhdx/parentLocator";
import { transfer, type CallContext, type Transfer } from "./protocol";
import { MISMATCH_REASON } from "./session";
import { current, exclusive } from "./state";
import { BlobBackend } from "./storage/blobBackend";

export interface ParentLocatorView {
  /** relative_path, volume_path, absolute_win32_path as stored, in the order they are tried (§2.6.2.6.3). */
  paths: { key: ParentPathKey; value: string }[];
  /** parent_linkage and parent_linkage2: the DataWriteGuid the parent must carry. */
  linkage: string[];
  /** True once the parents are attached. */
  attached: boolean;
}

/** The open image's parent locator, or null for an image without a parent. */
export async function parentLocator(): Promise<ParentLocatorView | null> {
  const img = current().image;
  const pl = img.params.parentLocator;
  if (img.diskType !== "differencing" || !pl) return null;
  const paths = PARENT_PATH_KEYS.flatMap((key) => {
    const value = locatorValue(pl, key);
    return value ? [{ key, value }] : [];
  });
  const linkage = ["parent_linkage", "parent_linkage2"].flatMap((k) => locatorValue(pl, k) ?? []);
  return { paths, linkage, attached: img.parent !== null };
}

/** Where the parents come from: files the user picked, or a folder granted once. */
export type ParentSource =
  | { kind: "files"; files: ({ kind: "handle"; handle: FileSystemFileHandle } | { kind: "file"; file: File })[] }
  | { kind: "directory"; directory: FileSystemDirectoryHandle };

export interface ChainImage {
  name: string;
  type: DiskType;
  virtualSize: number;
  fileSize: number;
  blockSize: number;
  virtualDiskId: string;
  dataWriteGuid: string;
  /** The DataWriteGuid this image expects of its parent; null for the base. */
  parentLinkage: string | null;
  /** Payload blocks FULLY_PRESENT or PARTIALLY_PRESENT, out of all. */
  allocatedBlocks: number;
  partialBlocks: number;
  totalBlocks: number;
}

export interface ChainView {
  images: ChainImage[];
  warnings: string[];
}

/** A locator path's last component ("..\\disks\\base.vhdx" → "base.vhdx"). */
function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? "";
}

/** relative_path resolved inside a granted folder: "." skipped, ".." cannot leave the folder. */
async function inDirectory(
  dir: FileSystemDirectoryHandle,
  relative: string,
): Promise<{ file: File; handle: FileSystemFileHandle } | null> {
  const parts = relative.split(/[\\/]/).filter((p) => p && p !== ".");
  if (parts.length === 0 || parts.includes("..")) return null;
  let d = dir;
  try {
    for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p);
    const handle = await d.getFileHandle(parts[parts.length - 1]);
    return { file: await handle.getFile(), handle };
  } catch {
    return null;
  }
}

/** A parent found: as the engine reads it, and its handle when it has one (a file no job may write). */
type Resolved = Awaited<ReturnType<ParentResolver>> & { handle?: FileSystemFileHandle };

export async function resolverFor(
  source: ParentSource,
): Promise<(...a: Parameters<ParentResolver>) => Promise<Resolved | null>> {
  if (source.kind === "directory") {
    return async (key, value) => {
      // Only relative_path means anything inside a folder; the others name the original machine.
      const r = key === "relative_path" ? await inDirectory(source.directory, value) : null;
      if (!r) return null;
      return {
        io: new BlobBackend(r.file, { name: r.file.name }),
        location: `${source.directory.name}/${value}`,
        handle: r.handle,
      };
    };
  }
  const files = await Promise.all(
    source.files.map(async (s) =>
      s.kind === "file" ? { file: s.file, handle: undefined } : { file: await s.handle.getFile(), handle: s.handle },
    ),
  );
  return async (_key, value) => {
    // A picked file stands for the path whose file name it carries.
    const f =
      files.find((x) => x.file.name.toLowerCase() === baseName(value).toLowerCase()) ??
      (files.length === 1 ? files[0] : null);
    if (!f) return null;
    return { io: new BlobBackend(f.file, { name: f.file.name }), location: f.file.name, handle: f.handle };
  };
}

function summarize(img: VhdxImage, name: string): ChainImage {
  const g = img.geometry;
  let allocated = 0;
  let partial = 0;
  for (let b = 0; b < g.dataBlocksCount; b++) {
    const st = img.bat.state(payloadEntryIndex(g, b));
    if (st === PAYLOAD_BLOCK_FULLY_PRESENT) allocated++;
    else if (st === PAYLOAD_BLOCK_PARTIALLY_PRESENT) {
      allocated++;
      partial++;
    }
  }
  const pl = img.params.parentLocator;
  return {
    name,
    type: img.diskType,
    virtualSize: img.virtualSize,
    fileSize: img.fileSize,
    blockSize: img.blockSize,
    virtualDiskId: img.params.virtualDiskId,
    dataWriteGuid: img.header.dataWriteGuid,
    parentLinkage: img.diskType === "differencing" && pl ? (locatorValue(pl, "parent_linkage") ?? null) : null,
    allocatedBlocks: allocated,
    partialBlocks: partial,
    totalBlocks: g.dataBlocksCount,
  };
}

let chainNames: string[] = [];

/** The chain as it stands: the open image and each parent attached below it. */
export async function chain(): Promise<ChainView> {
  const s = current();
  const images: ChainImage[] = [];
  let img: VhdxImage | null = s.image;
  for (let i = 0; img; i++) {
    images.push(summarize(img, i === 0 ? s.name : (chainNames[i] ?? `parent ${i}`)));
    const p: unknown = img.parent;
    img = p && typeof p === "object" && "bat" in p ? (p as VhdxImage) : null;
  }
  return { images, warnings: s.image.warnings.filter((w) => w.code === "PARENT_MISMATCH").map((w) => w.message) };
}

/**
 * Attaches the open differencing image's parents from what the user gave. The identity check
 * (the parent's DataWriteGuid against parent_linkage / parent_linkage2) runs first: a mismatch is
 * PARENT_MISMATCH naming both GUIDs, unless `force`, which attaches anyway and keeps the image
 * read-only with the reason.
 *
 * Stale locator paths are not rewritten here (§2.6.2.6.3 asks it of an implementation that knows
 * where the parent now is): a picked file or a granted folder gives names, never the absolute or
 * child-relative path a locator entry would need, so any value written would be a guess.
 */
export function attachChain(
  _ctx: CallContext,
  source: ParentSource,
  opts: { force?: boolean } = {},
): Promise<ChainView> {
  return exclusive(async () => {
    const s = current();
    if (s.image.diskType !== "differencing") {
      throw new VhdxError(
        "INVALID_ARGUMENT",
        `${s.name} is a ${s.image.diskType} image; it has no parent`,
        "parent locator",
      );
    }
    const names: string[] = [s.name];
    const handles: FileSystemFileHandle[] = [];
    // The first file found is the direct parent (the chain is followed from the child up).
    let direct: FileSystemFileHandle | null | undefined;
    const resolve = await resolverFor(source);
    const found = await attachParents(s.image, s.name, {
      force: opts.force,
      resolve: async (key, value, loc) => {
        const r = await resolve(key, value, loc);
        if (r) names.push(r.location);
        if (r?.handle) handles.push(r.handle);
        if (r && direct === undefined) direct = r.handle ?? null;
        return r;
      },
    });
    chainNames = names.slice(0, found.length);
    // The attached parents are open too: no job may write onto them (a merge writes into its own pick).
    s.parentHandles = handles;
    s.directParentHandle = direct ?? null;
    if (opts.force && s.image.warnings.some((w) => w.code === "PARENT_MISMATCH")) {
      s.readOnly = true;
      s.readOnlyReason = MISMATCH_REASON;
    }
    return chain();
  });
}

/** Per logical sector of a virtual range, which image of the chain supplies it (see sectorLayers). */
export async function layers(_ctx: CallContext, firstSector: number, count: number): Promise<Transfer<Int8Array>> {
  const out = await sectorLayers(current().image, firstSector, Math.min(count, 1 << 20));
  return transfer(out, [out.buffer]);
}

/** Per PARTIALLY_PRESENT block, the sectors its sector bitmap marks present (for the BAT view's shading). */
export async function partialBlocks(): Promise<Transfer<PartialPresence>> {
  const r = await partialPresence(current().image);
  return transfer(r, [r.blocks.buffer, r.present.buffer]);
}
