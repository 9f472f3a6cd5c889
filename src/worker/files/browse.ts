/**
 * The Files view's worker methods for browsing: the disk's volumes, a directory a page at a time
 * (read once, sorted here, so a folder of 100,000 entries scrolls without the page holding it;
 * the first page from the directory alone where the file system can), where a file's bytes lie on
 * the virtual disk, and who owns a byte of the disk.
 */
import { FsError } from "../../fs/errors";
import type { FsEntry, FsFinding, Owner } from "../../fs/types";
import { joinPath, resolvePath } from "../../fs/walk";
import type { CallContext } from "../protocol";
import { ColumnListing } from "./columnListing";
import { sortEntries } from "./order";
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

export interface DirPage {
  volume: number;
  path: string;
  /** Entries in the directory. */
  total: number;
  start: number;
  entries: FsEntry[];
  /** The directory's own findings, and how many of its entries carry findings. */
  dirFindings: FsFinding[];
  /**
   * False while the listing is the directory's own entries (sorted, each page's entries made
   * whole as it is asked for) and the whole read runs behind; `fsListWhole` waits for it.
   */
  complete: boolean;
  /** Goes up when the whole entries replace the directory's own: pages fetched before are stale. */
  revision: number;
}

/** Entries in a listing, in columns or whole. */
function sizeOf(l: Listing): number {
  return l.columns ? l.columns.length : l.entries.length;
}

/** Reading a directory stops here: a directory claiming more is reported, not read on. */
const MAX_ENTRIES = 2_000_000;

async function readAll(
  it: AsyncIterable<FsEntry | FsEntry[]>,
  stop: () => boolean,
  onCount: (n: number) => void,
): Promise<FsEntry[] | null> {
  const entries: FsEntry[] = [];
  let told = 0;
  for await (const e of it) {
    if (stop()) return null;
    if (Array.isArray(e)) for (const x of e) entries.push(x);
    else entries.push(e);
    if (entries.length >= MAX_ENTRIES) {
      entries.length = MAX_ENTRIES;
      break;
    }
    if (entries.length - told >= 4096) onCount((told = entries.length));
  }
  return entries;
}

/**
 * The listing of a directory. Where the file system lists a directory from the directory alone
 * (`readDirFast`: NTFS index keys), that comes first, sorted, and the whole read (each file's own
 * record, streams included) follows in the background and takes its place when done; elsewhere
 * the whole read comes first.
 */
async function listing(ctx: CallContext, volume: number, path: string, sort: SortOrder): Promise<Listing> {
  const st = filesState();
  const cur = st.listing;
  if (cur && cur.volume === volume && cur.path === path) {
    if (cur.sort.key !== sort.key || cur.sort.descending !== sort.descending) {
      if (cur.columns) cur.columns.sort(sort);
      else sortEntries(cur.entries, sort);
      cur.sort = sort;
    }
    return cur;
  }
  const { fs } = await fileSystemOf(st, volume);
  const dir = await resolvePath(fs, path);
  if (dir.type !== "dir") throw new FsError("FS_NOT_A_DIRECTORY", `${path || "/"} is not a directory`, "path");
  const stop = () => ctx.signal.aborted;
  const onCount = (n: number) => ctx.progress(0, n);
  // In columns where the file system gives them (no object per entry until it is shown).
  let columns: ColumnListing | null = null;
  if (fs.readDirColumns && fs.stat) {
    columns = await ColumnListing.read(fs.readDirColumns(dir), stop, onCount, MAX_ENTRIES);
    ctx.signal.throwIfAborted();
  }
  const fast = !columns && fs.readDirFast && fs.stat ? fs.readDirFast(dir) : null;
  const entries = columns ? [] : ((await readAll(fast ?? fs.readDir(dir), stop, onCount)) ?? []);
  ctx.signal.throwIfAborted();
  if (columns) columns.sort(sort);
  else sortEntries(entries, sort);
  const partial = !!(columns || fast);
  const l: Listing = {
    volume,
    path: dir.path,
    dir,
    entries,
    columns,
    sort,
    complete: !partial,
    revision: 0,
    whole: null,
    startWhole: null,
    wholeRead: 0,
    dropped: false,
  };
  if (st.listing) st.listing.dropped = true;
  st.listing = l;
  if (partial) {
    // Started by the first fsListWhole, so the first page is not kept waiting behind it.
    l.startWhole = () =>
      readAll(
        fs.readDir(dir),
        () => l.dropped,
        (n) => (l.wholeRead = n),
      ).then((whole) => {
        if (!whole || l.dropped) return;
        sortEntries(whole, l.sort);
        l.entries = whole;
        l.columns = null;
        l.complete = true;
        l.revision++;
      });
  }
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
  const total = sizeOf(l);
  const from = Math.max(0, Math.min(start, total));
  const to = Math.min(total, from + Math.max(0, Math.min(count, 5000)));
  const columns = l.columns;
  if (!l.complete) {
    // The page's entries made whole (sizes, times and types from each file's own record).
    const { fs } = await fileSystemOf(filesState(), volume);
    const revision = l.revision;
    for (let i = from; i < to; i++) {
      const e = columns ? columns.at(i) : l.entries[i];
      if (!e.partial || !fs.stat) continue;
      let whole: FsEntry;
      try {
        whole = await fs.stat(e);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        whole = {
          ...e,
          partial: false,
          findings: [
            { severity: "error", code: err.code, message: err.message, structure: err.structure, offset: err.offset },
          ],
        };
      }
      if (l.revision !== revision) break;
      if (columns) columns.set(i, whole);
      else l.entries[i] = whole;
    }
  }
  const entries: FsEntry[] = [];
  if (l.columns) for (let i = from; i < to; i++) entries.push(l.columns.at(i));
  else for (let i = from; i < to; i++) entries.push(l.entries[i]);
  return {
    volume,
    path: l.path,
    total: sizeOf(l),
    start: from,
    entries,
    dirFindings: l.dir.findings ?? [],
    complete: l.complete,
    revision: l.revision,
  };
}

/** Waits for the whole read behind a listing given first from the directory alone; progress counts entries read. */
export async function fsListWhole(
  ctx: CallContext,
  volume: number,
  path: string,
): Promise<{ total: number; revision: number }> {
  const l = filesState().listing;
  if (!l || l.volume !== volume || l.path !== path) throw new Error(`${path || "/"} is not the folder being listed`);
  if (!l.whole && l.startWhole) l.whole = l.startWhole();
  if (l.whole && !l.complete) {
    const timer = setInterval(() => ctx.progress(sizeOf(l) ? l.wholeRead / sizeOf(l) : 0, l.wholeRead), 100);
    try {
      await Promise.race([
        l.whole,
        new Promise<never>((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }),
        ),
      ]);
    } finally {
      clearInterval(timer);
    }
  }
  return { total: sizeOf(l), revision: l.revision };
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
