/**
 * Recent files: File System Access handles kept in IndexedDB (handles survive reloads there; Files
 * from an <input> or a drop do not, so only picked files are remembered). Nothing leaves the browser.
 */

export interface RecentFile {
  name: string;
  size: number;
  openedAt: number;
  handle: FileSystemFileHandle;
}

const DB = "vhdx-studio";
const STORE = "recent";
const KEEP = 8;

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "name" });
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

export async function loadRecent(): Promise<RecentFile[]> {
  if (typeof indexedDB === "undefined") return [];
  const db = await openDb();
  try {
    const all = (await done(db.transaction(STORE).objectStore(STORE).getAll())) as RecentFile[];
    return all.sort((a, b) => b.openedAt - a.openedAt).slice(0, KEEP);
  } finally {
    db.close();
  }
}

/** Remembers a handle and returns the updated list, newest first. */
export async function rememberRecent(entry: RecentFile): Promise<RecentFile[]> {
  if (typeof indexedDB === "undefined") return [];
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, "readwrite");
    const os = tx.objectStore(STORE);
    await done(os.put(entry));
    const all = ((await done(os.getAll())) as RecentFile[]).sort((a, b) => b.openedAt - a.openedAt);
    for (const old of all.slice(KEEP)) os.delete(old.name);
    return all.slice(0, KEEP);
  } finally {
    db.close();
  }
}
