/**
 * The Files view's state: the disk's volumes, the folder being browsed (its entries fetched from
 * the worker a page at a time, as they scroll into view), the selection, Extract, and the file
 * whose blocks the BAT and hex views point at.
 */
import { create } from "zustand";
import type { FsEntry } from "../../fs/types";
import type { DirPage, FileLocation, SortOrder, VolumesView } from "../../worker/files/browse";
import type { ExtractResult } from "../../worker/files/extract";
import { downloadBlob } from "../engine/client";
import { engineClient } from "../store/engineConnection";
import { useApp } from "../store/store";
import { errorText } from "../toolbox/checkStore";
import { pickSaveFile } from "../toolbox/pickers";

export type { FsEntry, SortOrder, VolumesView, FileLocation };
export type SortKey = SortOrder["key"];

/** Entries fetched per request. */
export const PAGE = 500;

export type ExtractState =
  | { phase: "idle" }
  | { phase: "running"; name: string; fraction: number; bytes: number }
  | { phase: "done"; result: ExtractResult; target: string }
  | { phase: "error"; message: string };

interface FilesState {
  volumes: VolumesView | null;
  loading: boolean;
  error: string | null;
  volume: number | null;
  path: string;
  sort: SortOrder;
  total: number;
  /** Fetched pages of the listing, by page number. */
  pages: Record<number, FsEntry[]>;
  /** Per entry index: true when a differencing image holds some of its bytes itself. */
  changed: Record<number, boolean | null>;
  listing: boolean;
  /**
   * While the folder's first pages come from the directory alone and each entry's own record is
   * read behind them: the fraction read; null otherwise.
   */
  details: number | null;
  selected: number | null;
  extraction: ExtractState;
  /** The file the BAT view highlights and "Show in hex" went to. */
  located: FileLocation | null;
  /** Bumped on every new listing, so stale page answers are dropped. */
  epoch: number;

  load(): Promise<void>;
  reset(): void;
  openVolume(index: number): Promise<void>;
  openDir(path: string): Promise<void>;
  setSort(key: SortKey): Promise<void>;
  ensureRows(first: number, last: number): void;
  select(index: number | null): void;
  activate(index: number): Promise<void>;
  up(): Promise<void>;
  extract(): Promise<void>;
  cancelExtract(): void;
  showInHex(): Promise<void>;
  showInBat(): Promise<void>;
  clearLocated(): void;
}

let extractAbort: AbortController | null = null;
const inflight = new Set<string>();

export function entryAt(s: Pick<FilesState, "pages">, i: number): FsEntry | undefined {
  return s.pages[Math.floor(i / PAGE)]?.[i % PAGE];
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

export const useFiles = create<FilesState>()((set, get) => {
  async function fetchPage(page: number, epoch: number): Promise<void> {
    const client = engineClient();
    const { volume, path, sort } = get();
    if (!client || volume === null) return;
    const key = `${epoch}:${page}`;
    if (inflight.has(key)) return;
    inflight.add(key);
    try {
      const r: DirPage = await client.fsList(volume, path, sort, page * PAGE, PAGE);
      if (get().epoch !== epoch) return;
      set((s) => ({ pages: { ...s.pages, [page]: r.entries }, total: r.total }));
      if (useApp.getState().info?.diskType === "differencing") {
        const flags = await client.fsLayerChanges(volume, path, sort, page * PAGE, PAGE);
        if (get().epoch !== epoch) return;
        set((s) => {
          const changed = { ...s.changed };
          flags.forEach((f, i) => (changed[page * PAGE + i] = f));
          return { changed };
        });
      }
    } catch (e) {
      if (get().epoch === epoch) set({ error: errorText(e) });
    } finally {
      inflight.delete(key);
    }
  }

  /** Waits for the whole read behind a listing from the directory alone, then fetches the pages again. */
  async function whole(volume: number, path: string, epoch: number): Promise<void> {
    const client = engineClient();
    if (!client) return;
    set({ details: 0 });
    try {
      await client.call("fsListWhole", [volume, path], {
        onProgress: (p) => {
          if (get().epoch === epoch) set({ details: p.fraction });
        },
      });
      if (get().epoch !== epoch) return;
      const fresh: Record<number, FsEntry[]> = {};
      let total = get().total;
      for (const p of Object.keys(get().pages).map(Number)) {
        const r = await client.fsList(volume, path, get().sort, p * PAGE, PAGE);
        if (get().epoch !== epoch) return;
        fresh[p] = r.entries;
        total = r.total;
      }
      // The selection follows its entry (streams may have come in above it), or is dropped.
      const { selected } = get();
      const was = selected !== null ? entryAt(get(), selected)?.path : undefined;
      let now: number | null = null;
      for (const [p, list] of Object.entries(fresh)) {
        const i = list.findIndex((e) => e.path === was);
        if (i >= 0) now = Number(p) * PAGE + i;
      }
      set({ pages: fresh, total, details: null, selected: was === undefined ? selected : now });
    } catch (e) {
      if (get().epoch === epoch) set({ error: errorText(e), details: null });
    }
  }

  async function list(volume: number, path: string, sort: SortOrder): Promise<void> {
    const epoch = get().epoch + 1;
    set({
      volume,
      path,
      sort,
      epoch,
      pages: {},
      changed: {},
      total: 0,
      selected: null,
      listing: true,
      details: null,
      error: null,
    });
    const client = engineClient();
    if (!client) return;
    try {
      const r = await client.fsList(volume, path, sort, 0, PAGE);
      if (get().epoch !== epoch) return;
      set({ pages: { 0: r.entries }, total: r.total, path: r.path, selected: r.total > 0 ? 0 : null });
      if (!r.complete) void whole(volume, r.path, epoch);
      if (useApp.getState().info?.diskType === "differencing") void fetchPage(0, epoch);
    } catch (e) {
      if (get().epoch === epoch) set({ error: errorText(e) });
    } finally {
      if (get().epoch === epoch) set({ listing: false });
    }
  }

  return {
    volumes: null,
    loading: false,
    error: null,
    volume: null,
    path: "",
    sort: { key: "name", descending: false },
    total: 0,
    pages: {},
    changed: {},
    listing: false,
    details: null,
    selected: null,
    extraction: { phase: "idle" },
    located: null,
    epoch: 0,

    async load() {
      const client = engineClient();
      if (!client || get().loading) return;
      const epoch = get().epoch;
      set({ loading: true, error: null });
      try {
        const volumes = await client.fsVolumes();
        if (get().epoch !== epoch) return;
        set({ volumes });
        // One file system: open it at once.
        const mountable = volumes.volumes.filter((v) => v.fs);
        if (get().volume === null && mountable.length === 1) await get().openVolume(mountable[0].index);
      } catch (e) {
        if (get().epoch === epoch) set({ error: errorText(e) });
      } finally {
        set({ loading: false });
      }
    },

    reset() {
      set({
        volumes: null,
        error: null,
        volume: null,
        path: "",
        total: 0,
        pages: {},
        changed: {},
        selected: null,
        located: null,
        details: null,
        epoch: get().epoch + 1,
      });
    },

    openVolume: (index) => list(index, "", get().sort),
    openDir: (path) => (get().volume === null ? Promise.resolve() : list(get().volume!, path, get().sort)),

    async setSort(key) {
      const cur = get().sort;
      const sort = { key, descending: cur.key === key ? !cur.descending : false };
      if (get().volume !== null) await list(get().volume!, get().path, sort);
      else set({ sort });
    },

    ensureRows(first, last) {
      const { epoch, total, pages } = get();
      for (let p = Math.floor(Math.max(0, first) / PAGE); p <= Math.floor(Math.min(last, total - 1) / PAGE); p++) {
        if (!pages[p]) void fetchPage(p, epoch);
      }
    },

    select: (selected) => set({ selected }),

    async activate(index) {
      const e = entryAt(get(), index);
      if (e?.type === "dir") await get().openDir(e.path);
    },

    async up() {
      const { volume, path } = get();
      if (volume === null) return;
      if (path === "")
        set({ volume: null, pages: {}, total: 0, selected: null, details: null, epoch: get().epoch + 1 });
      else await get().openDir(parentPath(path));
    },

    async extract() {
      const client = engineClient();
      const { volume, selected, path } = get();
      if (!client || volume === null) return;
      const e = selected !== null ? entryAt(get(), selected) : undefined;
      const target = e ?? { path, name: path.split("/").pop() || "volume", type: "dir" as const };
      if (target.type !== "file" && target.type !== "dir") return;
      const suggested = target.type === "dir" ? `${target.name}.zip` : target.name;
      // The save picker must be asked from the click; a browser without it downloads.
      const handle = await pickSaveFile(suggested, []).catch(() => null);
      const hasPicker = typeof (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker === "function";
      if (hasPicker && !handle) return;
      extractAbort = new AbortController();
      set({ extraction: { phase: "running", name: suggested, fraction: 0, bytes: 0 } });
      try {
        const result = await client.call(
          "fsExtract",
          [volume, target.path, handle ? { kind: "handle", handle } : { kind: "download" }],
          {
            signal: extractAbort.signal,
            onProgress: (p) =>
              set({ extraction: { phase: "running", name: suggested, fraction: p.fraction, bytes: p.bytes } }),
          },
        );
        if (result.blob) downloadBlob(result.blob, result.name);
        set({ extraction: { phase: "done", result, target: handle ? handle.name : result.name } });
      } catch (err) {
        set({ extraction: { phase: "error", message: errorText(err) } });
      } finally {
        extractAbort = null;
      }
    },

    cancelExtract() {
      extractAbort?.abort();
    },

    async showInHex() {
      const located = await locateSelected();
      if (located?.firstByte !== null && located) useApp.getState().goTo("virtual", located.firstByte);
    },

    async showInBat() {
      const located = await locateSelected();
      if (located) useApp.getState().setTab("BAT");
    },

    clearLocated: () => set({ located: null }),
  };

  async function locateSelected(): Promise<FileLocation | null> {
    const client = engineClient();
    const { volume, selected } = get();
    const e = selected !== null ? entryAt(get(), selected) : undefined;
    if (!client || volume === null || !e || e.type !== "file") return null;
    try {
      const located = await client.fsLocate(volume, e.path);
      set({ located });
      return located;
    } catch (err) {
      set({ error: errorText(err) });
      return null;
    }
  }
});

// Another image, or a change to this one (a commit, a replay, a parent attached): the volumes,
// the listing and the located file no longer hold.
useApp.subscribe((s, prev) => {
  if (s.info !== prev.info || s.batWords !== prev.batWords) useFiles.getState().reset();
});
