import { normalizeOpfsPath } from "./storage/opfs";
import { permissionApi } from "./storage/fsa";

/**
 * Exclusive editing across tabs with Web Locks: the hazard is two tabs writing one file, as two
 * hosts writing one VHDX during a live migration. A tab that cannot take a file's lock opens it
 * read-only and says why. Locks are per origin and die with the tab, so a crashed tab never
 * leaves a file locked.
 */
export interface HeldLock {
  readonly name: string;
  release(): void;
}

const PREFIX = "vhdx-studio:edit:";

/** Takes the exclusive lock `name` if nobody holds it; null when another tab or worker does. */
export async function tryExclusiveLock(name: string): Promise<HeldLock | null> {
  const locks = navigator.locks;
  if (!locks) return { name, release: () => undefined };
  return new Promise<HeldLock | null>((resolve, reject) => {
    locks
      .request(name, { mode: "exclusive", ifAvailable: true }, async (lock) => {
        if (!lock) {
          resolve(null);
          return;
        }
        // The lock is held until the callback's promise settles, i.e. until release().
        await new Promise<void>((release) => resolve({ name, release: () => release() }));
      })
      .catch(reject);
  });
}

export function opfsLockName(path: string): string {
  return `${PREFIX}opfs:${normalizeOpfsPath(path)}`;
}

/**
 * The lock name of a user's file. Chromium's getUniqueId() names the file itself; without it the
 * name is the only property that stays the same while another tab edits the file (size and
 * lastModified change with every commit), so two different files with the same name then
 * exclude each other: safe, if sometimes stricter than needed.
 */
export async function handleLockName(handle: FileSystemFileHandle): Promise<string> {
  const api = permissionApi(handle);
  if (typeof api.getUniqueId === "function") {
    try {
      return `${PREFIX}handle-id:${await api.getUniqueId()}`;
    } catch {
      // fall through to the name
    }
  }
  return `${PREFIX}handle-name:${handle.name}`;
}
