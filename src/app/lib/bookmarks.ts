/**
 * Named bookmarks of the hex view, kept per file and per byte space. A file is known by its name
 * and its VirtualDiskId (§2.6.2.5), so the same image opened again (from the picker, a drop or a
 * recent entry, or as its working copy) finds its bookmarks, and another image of the same name
 * does not. Stored in localStorage as JSON; what is read back is checked, never trusted.
 */
import type { ByteSpace } from "../store/engineApi";

export interface Bookmark {
  id: string;
  space: ByteSpace;
  offset: number;
  name: string;
}

/** At most this many per file (a list a person keeps, not an index). */
export const MAX_BOOKMARKS = 500;
const PREFIX = "vhdx-bookmarks:";

/** The storage key of a file's bookmarks. */
export function bookmarkKey(fileName: string, virtualDiskId: string): string {
  const base = fileName.replace(/ \(working copy\)$/, "");
  return `${PREFIX}${virtualDiskId.toLowerCase()}:${base}`;
}

/** Adds a bookmark (sorted by space, then offset); the oldest beyond MAX_BOOKMARKS are not kept. */
export function addBookmark(list: readonly Bookmark[], b: Bookmark): Bookmark[] {
  return sortBookmarks([...list, b].slice(-MAX_BOOKMARKS));
}

export function renameBookmark(list: readonly Bookmark[], id: string, name: string): Bookmark[] {
  const n = name.trim();
  return list.map((b) => (b.id === id && n ? { ...b, name: n.slice(0, 200) } : b));
}

export function removeBookmark(list: readonly Bookmark[], id: string): Bookmark[] {
  return list.filter((b) => b.id !== id);
}

export function sortBookmarks(list: readonly Bookmark[]): Bookmark[] {
  return [...list].sort((a, b) => (a.space === b.space ? a.offset - b.offset : a.space === "virtual" ? -1 : 1));
}

/** Parses stored JSON, keeping only well-formed entries. */
export function parseBookmarks(json: string | null): Bookmark[] {
  if (!json) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: Bookmark[] = [];
  for (const x of raw.slice(0, MAX_BOOKMARKS)) {
    if (typeof x !== "object" || x === null) continue;
    const b = x as Record<string, unknown>;
    if (
      typeof b.id === "string" &&
      (b.space === "virtual" || b.space === "file") &&
      typeof b.offset === "number" &&
      Number.isSafeInteger(b.offset) &&
      b.offset >= 0 &&
      typeof b.name === "string"
    )
      out.push({ id: b.id, space: b.space, offset: b.offset, name: b.name.slice(0, 200) });
  }
  return sortBookmarks(out);
}

/** The bookmarks kept for `key`; none when storage is blocked. */
export function loadBookmarks(key: string): Bookmark[] {
  try {
    return parseBookmarks(localStorage.getItem(key));
  } catch {
    return [];
  }
}

/** Keeps the bookmarks for `key` (an empty list removes the entry). False when storage refused. */
export function saveBookmarks(key: string, list: readonly Bookmark[]): boolean {
  try {
    if (list.length === 0) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(list));
    return true;
  } catch {
    return false;
  }
}
