/**
 * What the Files view has open in the worker: the disk's volumes, their mounted file systems and
 * the directory being browsed (held whole, sorted, handed to the page a page at a time). All of
 * it belongs to one open image and is dropped when the image changes (a commit, a replay, an
 * attached parent, another image).
 */
import type { BlockDevice, FileSystem, FsEntry, FsFinding } from "../../fs/types";
import type { Session } from "../session";
import { getSession, getVhdSession } from "../state";
import type { VhdSession } from "../vhdSession";
import type { ColumnListing } from "./columnListing";
import type { SortOrder } from "./order";
import { discoverVolumes, mountOn, type DiskVolume } from "./volumes";

export type { SortKey, SortOrder } from "./order";

export interface Listing {
  volume: number;
  path: string;
  dir: FsEntry;
  /** Every entry, in the order last asked for (empty while `columns` holds the listing). */
  entries: FsEntry[];
  /** The listing from the directory alone, in columns, until the whole read replaces it. */
  columns: ColumnListing | null;
  sort: SortOrder;
  /**
   * False while `entries` are the directory's own (partial) entries and the whole read runs
   * behind them; then they are swapped for the whole ones and `revision` goes up.
   */
  complete: boolean;
  revision: number;
  /** The whole read in flight, and how many entries it has read. */
  whole: Promise<void> | null;
  startWhole: (() => Promise<void>) | null;
  wholeRead: number;
  /** Set when another listing takes this one's place: the whole read stops. */
  dropped: boolean;
}

interface FilesState {
  session: Session | VhdSession;
  generation: number;
  volumes: Promise<{ volumes: DiskVolume[]; findings: FsFinding[] }> | null;
  mounts: Map<number, Promise<FileSystem>>;
  listing: Listing | null;
}

let state: FilesState | null = null;
/** Bumped by every method that changes the open image's bytes or chain. */
let generation = 0;

/** Forget every mounted file system: the disk's bytes, or the disk, changed. */
export function forgetFiles(): void {
  generation++;
  if (state?.listing) state.listing.dropped = true;
  state = null;
}

export function filesState(): FilesState {
  const s = getSession() ?? getVhdSession();
  if (!s) throw new Error("No image is open");
  if (!state || state.session !== s || state.generation !== generation) {
    if (state?.listing) state.listing.dropped = true;
    state = { session: s, generation, volumes: null, mounts: new Map(), listing: null };
  }
  return state;
}

/** The open image's virtual disk as a block device; reads pass the writer's gate like the hex view's. */
export function diskOf(s: Session | VhdSession): BlockDevice {
  if (!("writer" in s)) return { size: s.image.virtualSize, read: (o, l) => s.image.read(o, l) };
  return {
    get size() {
      return s.image.virtualSize;
    },
    read(offset: number, length: number) {
      const readNow = () => s.image.read(offset, length);
      return s.writer ? s.writer.gate.read(readNow) : readNow();
    },
  };
}

export async function volumesOf(st: FilesState): Promise<{ volumes: DiskVolume[]; findings: FsFinding[] }> {
  if (!st.volumes) {
    st.volumes = discoverVolumes(diskOf(st.session), sectorSizeOf(st.session));
    st.volumes.catch(() => {
      if (state === st) st.volumes = null;
    });
  }
  return st.volumes;
}

export async function fileSystemOf(st: FilesState, index: number): Promise<{ fs: FileSystem; volume: DiskVolume }> {
  const { volumes } = await volumesOf(st);
  const volume = volumes[index];
  if (!volume) throw new Error(`There is no volume ${index} on this disk`);
  let m = st.mounts.get(index);
  if (!m) {
    m = mountOn(diskOf(st.session), volume);
    st.mounts.set(index, m);
    m.catch(() => st.mounts.delete(index));
  }
  return { fs: await m, volume };
}

/** A VHD's sectors are 512 bytes; a VHDX says in its metadata. */
function sectorSizeOf(s: Session | VhdSession): number {
  return "writer" in s ? s.image.params.logicalSectorSize : 512;
}
