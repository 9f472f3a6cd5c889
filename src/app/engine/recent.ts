import { ensurePermission } from "./client";

/**
 * Recently opened files, kept as FileSystemFileHandles in IndexedDB (handles are structured-
 * cloneable; IndexedDB is the only storage that keeps them). The browser forgets the granted
 * permission between visits, so reopening asks again.
 */
export interface RecentFile {
  id: string;
  name: string;
  size: number;
  lastModified: number;
  openedAt: number;
  handle: FileSystemFileHandle;
}

const DB_NAME = "vhdx-studio";
const STORE = "recent-files";
const MAX_RECENT = 20;

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "id" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => Promise<T>): Promise<T> {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const finished = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    const result = await fn(tx.objectStore(STORE));
    await finished;
    return result;
  } finally {
    db.close();
  }
}

/** Most recently opened first. */
export async function listRecent(): Promise<RecentFile[]> {
  const all = await withStore("readonly", (s) => done(s.getAll() as IDBRequest<RecentFile[]>));
  return all.sort((a, b) => b.openedAt - a.openedAt);
}

/** Records a handle as just opened; the same file (isSameEntry) replaces its older entry. */
export async function addRecent(handle: FileSystemFileHandle): Promise<RecentFile> {
  let size = 0;
  let lastModified = 0;
  try {
    const f = await handle.getFile();
    size = f.size;
    lastModified = f.lastModified;
  } catch {
    // Without read permission the entry is kept with what is known.
  }
  const existing = await listRecent();
  let id: string | null = null;
  for (const r of existing) {
    if (await r.handle.isSameEntry(handle).catch(() => false)) {
      id = r.id;
      break;
    }
  }
  const entry: RecentFile = {
    id: id ?? crypto.randomUUID(),
    name: handle.name,
    size,
    lastModified,
    openedAt: Date.now(),
    handle,
  };
  const stale = [entry, ...existing.filter((r) => r.id !== entry.id)].slice(MAX_RECENT);
  await withStore("readwrite", async (s) => {
    await done(s.put(entry));
    for (const r of stale) await done(s.delete(r.id));
  });
  return entry;
}

export async function removeRecent(id: string): Promise<void> {
  await withStore("readwrite", (s) => done(s.delete(id)).then(() => undefined));
}

export async function clearRecent(): Promise<void> {
  await withStore("readwrite", (s) => done(s.clear()).then(() => undefined));
}

/**
 * The handle of a recent file with permission asked again (call from a click: the browser
 * prompts only during a user gesture). `state` says what was granted; "denied" or "prompt"
 * means the file can only be opened read-only, or not at all for "denied" on read.
 */
export async function reopenRecent(
  id: string,
  mode: "read" | "readwrite",
): Promise<{ entry: RecentFile; state: PermissionState }> {
  const entry = await withStore("readonly", (s) => done(s.get(id) as IDBRequest<RecentFile | undefined>));
  if (!entry) throw new Error(`No recent file with id ${id}`);
  const state = await ensurePermission(entry.handle, mode);
  if (state === "granted") {
    await withStore("readwrite", (s) => done(s.put({ ...entry, openedAt: Date.now() }))).catch(() => undefined);
  }
  return { entry, state };
}
