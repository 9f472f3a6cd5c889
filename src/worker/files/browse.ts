/**
 * The Files view's worker methods for browsing: the disk's volumes, a directory a page at a time
 * (read whole once, sorted here, so a folder of 100,000 entries scrolls without the page holding
 * it), where a file's bytes lie on the virtual disk, and who owns a byte of the disk.
 */
import { FsError } from "../../fs/errors";
import type { FsEntry, FsFinding, Owner } from "../../fs/types";
import { joinPath, resolvePath } from "../../fs/walk";
import type { CallContext } from "../protocol";
import { filesState, fileSystemOf, volumesOf, type Listing, type SortOrder } from "./state";
import type { DiskVolume } from "./volumes";

export type { DiskVolume, SortOrder };

export interface VolumeView extends DiskVolume {
  /** The mounted file system's own words; null when none was found or it could not be mounted. */
  fs: { type: string; label: string; uuid: string; blockSize: number; size: number; findings: FsFinding[] } | null;
  /** Why the file system could not be mounted. */
  error: string | null;
}

export interface VolumesView {
  volumes: VolumeView[];
  /** Partition table findings (a damaged primary GPT, …). */
  findings: FsFinding[];
}

function describe(e: unknown): string {
  if (e instanceof FsError) return e.describe();
  return e instanceof Error ? e.message : String(e);
}

export async function fsVolumes(): Promise<VolumesView> {
  const st = filesState();
  const { volumes, findings } = await volumesOf(st);
  const out: VolumeView[] = [];
  for (const v of volumes) {
    if (!v.fsType) {
      out.push({ ...v, fs: null, error: null });
      continue;
    }
    try {
      const { fs } = await fileSystemOf(st, v.index);
      out.push({
        ...v,
        fs: {
          type: fs.type,
          label: fs.label,
          uuid: fs.uuid,
          blockSize: fs.blockSize,
          size: fs.size,
          findings: [...fs.findings],
        },
        error: null,
      });
    } catch (e) {
      out.push({ ...v, fs: null, error: describe(e) });
    }
  }
  return { volumes: out, findings };
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
const TYPE_ORDER = { dir: 0, file: 1, symlink: 2, other: 3 } as const;

function compare(order: SortOrder): (a: FsEntry, b: FsEntry) => number {
  const byName = (a: FsEntry, b: FsEntry) => collator.compare(a.name, b.name);
  const key = (a: FsEntry, b: FsEntry): number => {
    switch (order.key) {
      case "size":
        return a.size - b.size || byName(a, b);
      case "mtime":
        return (a.mtime ?? -Infinity) - (b.mtime ?? -Infinity) || byName(a, b);
      case "type":
        return TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || byName(a, b);
      default:
        return byName(a, b);
    }
  };
  // Folders stay first whatever the order, as file managers keep them.
  return (a, b) => {
    const folders = (a.type === "dir" ? 0 : 1) - (b.type === "dir" ? 0 : 1);
    if (folders !== 0) return folders;
    const c = key(a, b);
    return order.descending ? -c : c;
  };
}

export interface DirPage {
  volume: number;
  path: string;
  /** Entries in the directory. */
  total: number;
  start: number;
  entries: FsEntry[];
  /** The directory's own findings, and how many of its entries carry findings. */
  dirFindings: FsFinding[];
}

/** Reading a directory stops here: a directory claiming more is reported, not read on. */
const MAX_ENTRIES = 2_000_000;

async function listing(ctx: CallContext, volume: number, path: string, sort: SortOrder): Promise<Listing> {
  const st = filesState();
  const cur = st.listing;
  if (cur && cur.volume === volume && cur.path === path) {
    if (cur.sort.key !== sort.key || cur.sort.descending !== sort.descending) {
      cur.entries.sort(compare(sort));
      cur.sort = sort;
    }
    return cur;
  }
  const { fs } = await fileSystemOf(st, volume);
  const dir = await resolvePath(fs, path);
  if (dir.type !== "dir") throw new FsError("FS_NOT_A_DIRECTORY", `${path || "/"} is not a directory`, "path");
  const entries: FsEntry[] = [];
  for await (const e of fs.readDir(dir)) {
    ctx.signal.throwIfAborted();
    entries.push(e);
    if (entries.length >= MAX_ENTRIES) break;
    if (entries.length % 4096 === 0) ctx.progress(0, entries.length);
  }
  entries.sort(compare(sort));
  const l: Listing = { volume, path: dir.path, dir, entries, sort };
  st.listing = l;
  return l;
}

export async function fsList(
  ctx: CallContext,
  volume: number,
  path: string,
  sort: SortOrder,
  start: number,
  count: number,
): Promise<DirPage> {
  const l = await listing(ctx, volume, path, sort);
  const from = Math.max(0, Math.min(start, l.entries.length));
  const entries = l.entries.slice(from, from + Math.max(0, Math.min(count, 5000)));
  return { volume, path: l.path, total: l.entries.length, start: from, entries, dirFindings: l.dir.findings ?? [] };
}

/** A file's bytes on the virtual disk. */
export interface FileLocation {
  volume: number;
  path: string;
  size: number;
  /** Runs on the virtual disk, in file order: [start, end) disk bytes, and the file offset they hold. */
  runs: { start: number; end: number; fileOffset: number; encoded: boolean }[];
  /** More runs than listed. */
  truncated: boolean;
  /** The virtual disk offset of the file's first stored byte; null when it is all holes. */
  firstByte: number | null;
}

const MAX_RUNS = 100_000;

export async function fsLocate(_ctx: CallContext, volume: number, path: string): Promise<FileLocation> {
  const st = filesState();
  const { fs, volume: v } = await fileSystemOf(st, volume);
  const file = await resolvePath(fs, path);
  if (file.type !== "file") throw new FsError("FS_NOT_A_FILE", `${path} is not a regular file`, "path");
  const runs: FileLocation["runs"] = [];
  let truncated = false;
  for await (const x of fs.extents(file)) {
    if (x.deviceOffset === null) continue;
    if (runs.length >= MAX_RUNS) {
      truncated = true;
      break;
    }
    const len = x.encoded ? (x.deviceLength ?? x.length) : x.length;
    const start = v.start + x.deviceOffset;
    const last = runs[runs.length - 1];
    if (last && last.end === start && !x.encoded && !last.encoded) last.end += len;
    else runs.push({ start, end: start + len, fileOffset: x.fileOffset, encoded: !!x.encoded });
  }
  return { volume, path: file.path, size: file.size, runs, truncated, firstByte: runs[0]?.start ?? null };
}

/** Who holds a byte of the virtual disk: a file or structure of the volume it lies in, or no volume. */
export type DiskOwner =
  | { kind: "volume"; volume: number; label: string; owner: Exclude<Owner, { kind: "file" }> | FileOwner }
  | { kind: "outside" };
type FileOwner = { kind: "file"; path: string; fileOffset: number };

export async function fsOwner(_ctx: CallContext, diskOffset: number): Promise<DiskOwner> {
  const st = filesState();
  const { volumes } = await volumesOf(st);
  const v = volumes.find((x) => diskOffset >= x.start && diskOffset < x.start + x.size);
  if (!v) return { kind: "outside" };
  const label = v.number === null ? "the disk" : `partition ${v.number}`;
  if (!v.fsType) return { kind: "volume", volume: v.index, label, owner: { kind: "unknown" } };
  const { fs } = await fileSystemOf(st, v.index);
  const o = await fs.ownerOf(diskOffset - v.start);
  const owner = o.kind === "file" ? { kind: "file" as const, path: o.path, fileOffset: o.fileOffset } : o;
  return { kind: "volume", volume: v.index, label, owner };
}

export { joinPath };
