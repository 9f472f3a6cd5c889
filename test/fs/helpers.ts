/**
 * What the file-system tests share: a device over a file, a whole tree walked, a file read whole,
 * seeded bytes, and the hostile tests' mutate-and-walk loop.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import fc from "fast-check";
import { expect } from "vitest";
import { FsError } from "../../src/fs/errors";
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

/**
 * Lists every folder and reads every file of a (possibly damaged) volume, bounded in entries
 * visited and file bytes read, then asks who owns each of `owners`.
 */
export async function walkBounded(
  fs: FileSystem,
  bounds: { entries: number; bytes: number },
  owners: readonly number[],
): Promise<void> {
  const stack: FsEntry[] = [await fs.root()];
  let entries = 0;
  let bytesRead = 0;
  while (stack.length && entries < bounds.entries) {
    const d = stack.pop()!;
    for await (const e of fs.readDir(d)) {
      if (++entries > bounds.entries) break;
      if (e.type === "dir") stack.push(e);
      else if (e.type === "file" && bytesRead < bounds.bytes) {
        for await (const c of fileChunks(fs, e, 1 << 20)) {
          bytesRead += c.bytes.length;
          if (bytesRead > bounds.bytes) break;
        }
      }
    }
  }
  for (const at of owners) await fs.ownerOf(at);
}

/**
 * fast-check over `seed`: 1–6 bytes set to `value` inside the `targets` ranges ([start, length]),
 * and `exercise` over the mutated copy either succeeds or throws an FsError naming a structure.
 */
export async function mutateAndWalk(o: {
  seed: Uint8Array;
  targets: readonly [number, number][];
  value: fc.Arbitrary<number>;
  exercise: (img: Uint8Array) => Promise<void>;
  numRuns: number;
}): Promise<void> {
  const mutation = fc.record({ target: fc.nat(), at: fc.nat(), value: o.value });
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), async (ms) => {
      const img = o.seed.slice();
      for (const m of ms) {
        const [s, l] = o.targets[m.target % o.targets.length];
        img[s + (m.at % l)] = m.value;
      }
      try {
        await o.exercise(img);
      } catch (e) {
        if (!(e instanceof FsError)) throw e;
        expect(e.structure).not.toBe("");
      }
    }),
    { numRuns: o.numRuns, seed: 20261207 },
  );
}
