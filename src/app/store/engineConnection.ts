/**
 * The one place the store gets its engine from: the worker client (src/app/engine/) adapted to
 * the EngineApi the store calls. Everything else in the app talks to EngineApi only.
 * Methods the worker lacks are left out of the adapter; the UI then says what is unavailable
 * (see Capabilities in the store) rather than offering it.
 */
import {
  chooseSaveTarget,
  createEngineClient,
  downloadBlob,
  ensurePermission,
  type EngineClient,
  type ProgressEvent,
} from "../engine/client";
import { addRecent, listRecent, reopenRecent, type RecentFile } from "../engine/recent";
import type { EngineApi, OpenOptions, OpenSource, Progress } from "./engineApi";

export type { RecentFile };

const progress = (phase: string, cb?: (p: Progress) => void) =>
  cb ? (p: ProgressEvent) => cb({ phase, done: Math.round(p.fraction * 1000), total: 1000 }) : undefined;

function adapt(client: EngineClient): EngineApi {
  return {
    async open(source: OpenSource, opts?: OpenOptions) {
      const src =
        source instanceof File
          ? { kind: "file" as const, file: source }
          : { kind: "handle" as const, handle: source, writable: opts?.writable ?? false };
      const r = await client.call("openDisk", [src], {
        signal: opts?.signal,
        onProgress: progress("opening", opts?.onProgress),
      });
      const vhd = r.format === "vhd" ? r.info : null;
      return { readOnly: r.readOnly, readOnlyReason: r.readOnlyReason, logAwaitsReplay: r.logAwaitsReplay, vhd };
    },
    info: () => client.info(),
    map: (window) => client.map(window),
    read: (space, offset, length) => client.read(space, offset, length),
    batWords: () => client.batWords(),
    editRefusal: async () => (await client.editRefusal())?.message ?? null,
    commitCost: (patch) => client.patchCost(patch),
    commitPatch: (patch, opts) =>
      client.call("commitPatch", [patch], {
        signal: opts?.signal,
        onProgress: progress("committing", opts?.onProgress),
      }),
    replay: (opts) =>
      client.call("replay", [], { signal: opts?.signal, onProgress: progress("replaying", opts?.onProgress) }),
    async openWorkingCopy(file, opts) {
      // A File has no write access in the browser, so edits go to a working copy in the
      // origin-private file system, streamed in with progress and saved out on request.
      // It takes the file's own name in working-copies/, numbered when taken: it never replaces a file.
      const { path } = await client.call(
        "importToOpfs",
        [{ kind: "file", file }, await client.workingCopyPath(file.name), { unique: true }],
        { signal: opts?.signal, onProgress: progress("copying into browser storage", opts?.onProgress) },
      );
      // Kept so Save back can tell the original from any other file later.
      await client.rememberOrigin(path, file);
      const r = await client.call("open", [{ kind: "opfs", path, writable: true }], { signal: opts?.signal });
      return { readOnly: r.readOnly, readOnlyReason: r.readOnlyReason, logAwaitsReplay: r.logAwaitsReplay };
    },
    async saveCopy(name, opts) {
      const target = await chooseSaveTarget(name);
      if (!target) return false;
      const r = await client.call("saveAs", [target], {
        signal: opts?.signal,
        onProgress: progress("saving", opts?.onProgress),
      });
      if (r.kind === "download") downloadBlob(r.blob, r.name);
      return true;
    },
    log: () => client.log(),
    check: (opts) =>
      client.call("check", [], { signal: opts?.signal, onProgress: progress("checking", opts?.onProgress) }),
    close: () => client.close(),
  };
}

let shared: EngineClient | null = null;

/** The worker client behind the store's engine, for the toolbox's own calls (check, repair, create, convert). */
export function engineClient(): EngineClient | null {
  if (!shared && typeof Worker !== "undefined") shared = createEngineClient();
  return shared;
}

/** Returns the engine client, or null where Web Workers are unavailable. */
export function connectEngine(): EngineApi | null {
  const client = engineClient();
  return client ? adapt(client) : null;
}

/** Recent files (handles in IndexedDB), newest first. */
export const recentFiles = {
  list: (): Promise<RecentFile[]> => listRecent(),
  remember: (handle: FileSystemFileHandle): Promise<RecentFile> => addRecent(handle),
  /** Asks for read access again (call from a click) and returns the handle when granted. */
  async reopen(id: string): Promise<FileSystemFileHandle | null> {
    const { entry, state } = await reopenRecent(id, "read");
    return state === "granted" ? entry.handle : null;
  },
  /** Asks for write access (call from a click); the resulting permission state. */
  ensureWrite: (handle: FileSystemFileHandle) => ensurePermission(handle, "readwrite"),
};
