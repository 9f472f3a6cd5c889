/** What the file-system tests share: a device over a file, a whole tree walked, a file read whole, seeded bytes. */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { BlockDevice, FileSystem, FsEntry } from "../../src/fs/types";
import { fileChunks } from "../../src/fs/walk";

/** A read-only device over a file, as the CLI reads raw disks (synchronous reads, for speed in tests). */
export class SyncFileDevice implements BlockDevice {
  readonly size: number;
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, "r");
    this.size = fstatSync(this.fd).size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || offset + length > this.size) throw new RangeError(`read past the end: ${offset}+${length}`);
    const b = new Uint8Array(length);
    readSync(this.fd, b, 0, length, offset);
    return b;
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Every entry of the file system by path, each directory read once. */
export async function walkTree(fs: FileSystem): Promise<Map<string, FsEntry>> {
  const out = new Map<string, FsEntry>();
  const stack = [await fs.root()];
  while (stack.length) {
    const d = stack.pop()!;
    for await (const e of fs.readDir(d)) {
      out.set(e.path, e);
      if (e.type === "dir") stack.push(e);
    }
  }
  return out;
}

/** A file's bytes, read through its extents as the CLI's `get` and the Files view read them. */
export async function readWhole(fs: FileSystem, e: FsEntry): Promise<Buffer> {
  const out = Buffer.alloc(e.size);
  for await (const c of fileChunks(fs, e, 1 << 20)) out.set(c.bytes, c.fileOffset);
  return out;
}

/** Deterministic bytes for a file of the generated trees. */
export function seededBytes(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = (seed * 2654435761 + 7) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
