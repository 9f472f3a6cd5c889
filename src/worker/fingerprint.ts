/**
 * A file's identity as far as a browser can tell it: a File from a picker or a drop carries no
 * inode or path, so two Files are taken for the same file when their size, last change and the
 * SHA-256 of their first and last MiB agree. Save back compares the original with this before it
 * writes over it, and Write file before it reads a file into the open image.
 */
const MiB = 1024 * 1024;

export interface Fingerprint {
  size: number;
  lastModified: number;
  /** SHA-256 (hex) of the first MiB (the whole file when shorter). */
  head: string;
  /** SHA-256 (hex) of the last MiB (the whole file when shorter). */
  tail: string;
}

async function sha256(blob: Blob): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function fingerprintOf(file: File): Promise<Fingerprint> {
  return {
    size: file.size,
    lastModified: file.lastModified,
    head: await sha256(file.slice(0, MiB)),
    tail: await sha256(file.slice(Math.max(0, file.size - MiB))),
  };
}

/** What differs between the two, in words ("its size changed: 4 MiB → 5 MiB"), or null when nothing does. */
export function fingerprintDifference(was: Fingerprint, now: Fingerprint): string | null {
  if (was.size !== now.size) return `its size changed (${was.size} → ${now.size} bytes)`;
  if (was.lastModified !== now.lastModified) {
    return `it was modified at ${new Date(now.lastModified).toISOString()} (it was ${new Date(was.lastModified).toISOString()})`;
  }
  if (was.head !== now.head) return "its first MiB differs";
  if (was.tail !== now.tail) return "its last MiB differs";
  return null;
}
