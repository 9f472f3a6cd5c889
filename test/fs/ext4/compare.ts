/**
 * The checks every ext image goes through: the driver's listing against the tree that was put in
 * and against The Sleuth Kit on the same raw image, every file's bytes against the original
 * SHA-256 (and icat for a sample), extents against reads, and ownerOf against the extents.
 */
import { expect, it } from "vitest";
import { extDriver } from "../../../src/fs/ext4";
import { ENTRY_TYPES, type BlockDevice, type FileSystem, type FsEntry } from "../../../src/fs/types";
import {
  debugfsMapBlocks,
  type Expected,
  FileDevice,
  flsList,
  icat,
  istatTarget,
  listAll,
  readWhole,
  sha256,
} from "./fixture";

export interface BuiltImage {
  image: string;
  expected: Map<string, Expected>;
  /** Opens the device the driver mounts (the raw file, or a VHDX of it). */
  device(): Promise<BlockDevice & { close?(): Promise<void> }>;
}

export interface Mounted {
  device: BlockDevice & { close?(): Promise<void> };
  fs: FileSystem;
  entries: Map<string, FsEntry>;
}

export async function mountAndList(built: BuiltImage): Promise<Mounted> {
  const device = await built.device();
  const head = await device.read(0, Math.min(65536, device.size));
  expect(extDriver.probe(head, device)).toBe(true);
  const fs = await extDriver.mount(device);
  const entries = await listAll(fs, await fs.root());
  return { device, fs, entries };
}

/** Registers the comparisons for one image; `get` is ready once the caller's beforeAll has run. */
export function compareImage(
  get: () => { built: BuiltImage; mounted: Mounted },
  opts: { type: string; tsk: boolean; extents: boolean; untypedEntries?: boolean },
) {
  it("mounts as the expected type with no findings", () => {
    const { mounted } = get();
    expect(mounted.fs.type).toBe(opts.type);
    expect(mounted.fs.findings).toEqual([]);
  });

  it("lists every path of the tree with its type, size and symlink target", () => {
    const { built, mounted } = get();
    const got = new Map<string, Expected>();
    for (const [path, e] of mounted.entries) {
      if (path === "lost+found") continue;
      const x: Expected = { type: e.type as Expected["type"], size: e.type === "dir" ? 0 : e.size };
      if (e.target !== undefined) x.target = e.target;
      got.set(path, x);
    }
    const want = new Map<string, Expected>();
    for (const [path, x] of built.expected) {
      const { sha256: _h, ...rest } = x;
      want.set(path, rest);
    }
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [path, x] of want) expect(got.get(path), path).toEqual(x);
    for (const e of mounted.entries.values()) expect(e.findings, e.path).toBeUndefined();
  });

  it("lists each folder in runs and in columns as readDir lists it; stat makes each column entry whole", async () => {
    const { mounted } = get();
    const fs = mounted.fs;
    const dirs = [await fs.root(), ...[...mounted.entries.values()].filter((e) => e.type === "dir")];
    for (const dir of dirs) {
      const whole: FsEntry[] = [];
      for await (const e of fs.readDir(dir)) whole.push(e);
      const runs: FsEntry[] = [];
      for await (const run of fs.readDirRuns!(dir)) runs.push(...run);
      expect(runs, dir.path).toEqual(whole);
      const partial: FsEntry[] = [];
      for await (const c of fs.readDirColumns!(dir))
        for (let i = 0; i < c.names.length; i++) {
          const e = c.entry(i);
          expect([c.names[i], ENTRY_TYPES[c.types[i]]]).toEqual([e.name, e.type]);
          partial.push(e);
        }
      // The type each directory entry records is the inode's.
      expect(partial.map((e) => [e.path, e.type])).toEqual(whole.map((e) => [e.path, e.type]));
      for (const [i, e] of partial.entries()) {
        // Without the filetype feature each type comes from the inode, so the entries come whole.
        if (opts.untypedEntries) {
          expect(e, e.path).toEqual(whole[i]);
        } else {
          expect(e.partial).toBe(true);
          expect(await fs.stat!(e), e.path).toEqual(whole[i]);
        }
      }
    }
  });

  it("reads every file's bytes as the original's SHA-256", async () => {
    const { built, mounted } = get();
    for (const [path, x] of built.expected) {
      if (x.type !== "file") continue;
      const e = mounted.entries.get(path)!;
      expect(sha256(await readWhole(mounted.fs, e)), path).toBe(x.sha256);
    }
  });

  it("hard links share an inode", () => {
    const { mounted } = get();
    const a = mounted.entries.get("linked.bin")!;
    const b = mounted.entries.get("names/hard link.bin")!;
    expect(a.ref).toBe(b.ref);
    expect(a.links).toBe(2);
  });

  it("extents cover each file without gaps, and reading them gives the file's bytes", async () => {
    const { built, mounted } = get();
    const device = await built.device();
    try {
      for (const [path, x] of built.expected) {
        if (x.type !== "file" || path.startsWith("big/")) continue;
        const e = mounted.entries.get(path)!;
        const whole = new Uint8Array(e.size);
        let at = 0;
        for await (const ext of mounted.fs.extents(e)) {
          expect(ext.fileOffset, path).toBe(at);
          expect(ext.length).toBeGreaterThan(0);
          if (ext.deviceOffset !== null) whole.set(await device.read(ext.deviceOffset, ext.length), ext.fileOffset);
          at += ext.length;
        }
        expect(at, path).toBe(e.size);
        expect(sha256(whole), path).toBe(x.sha256);
      }
    } finally {
      await device.close?.();
    }
  });

  it("the sparse file's holes have no device offset", async () => {
    const { mounted } = get();
    const e = mounted.entries.get("sparse-48m.bin")!;
    let hole = 0;
    for await (const ext of mounted.fs.extents(e)) if (ext.deviceOffset === null) hole += ext.length;
    expect(hole).toBeGreaterThan(40 * 1024 * 1024);
  });

  it("the fragmented file lies in several runs", async () => {
    const { mounted } = get();
    const e = mounted.entries.get("frag/big")!;
    let runs = 0;
    for await (const ext of mounted.fs.extents(e)) if (ext.deviceOffset !== null) runs++;
    expect(runs).toBeGreaterThan(1);
  });

  it("ownerOf names the file at each of its extents, and the fixed structures", async () => {
    const { mounted } = get();
    const fs = mounted.fs;
    expect(await fs.ownerOf(1024)).toEqual({ kind: "structure", structure: "superblock" });
    for (const path of ["frag/big", "sizes/size-65537", "sparse-48m.bin", "level1/level2/level3"]) {
      const e = mounted.entries.get(path)!;
      for await (const ext of fs.extents(e)) {
        if (ext.deviceOffset === null) continue;
        const probe = ext.deviceOffset + ext.length - 1;
        const owner = await fs.ownerOf(probe);
        if (e.type === "dir" && owner.kind === "structure" && owner.structure.startsWith(`inode ${e.ref} (`)) {
          // An inline directory lies inside its own inode.
          expect(owner.structure, path).toMatch(/^inode \d+ \(inode table of group \d+\)$/);
        } else if (e.type === "dir") {
          expect(owner, path).toEqual({ kind: "structure", structure: "directory", path });
        } else {
          expect(owner.kind, path).toBe("file");
          if (owner.kind === "file") {
            expect(owner.path).toBe(path);
            expect(owner.fileOffset).toBe(ext.fileOffset + ext.length - 1);
          }
        }
      }
    }
    const root = await fs.root();
    const rootExtent = (await first(fs.extents(root)))!;
    expect(await fs.ownerOf(rootExtent.deviceOffset!)).toEqual({ kind: "structure", structure: "directory", path: "" });
    expect((await fs.ownerOf(fs.size - 1)).kind).toMatch(/^(free|structure|file|unknown)$/);
  });

  it("ownerOf names the indirect and extent tree blocks debugfs lists for a file", async () => {
    const { built, mounted } = get();
    let found = 0;
    for (const path of ["sparse-80m.bin", "sparse-48m.bin", "frag/big"]) {
      const e = mounted.entries.get(path)!;
      for (const block of debugfsMapBlocks(built.image, e.ref as number)) {
        const want = block.kind === "ETB" ? "extent tree" : "indirect block";
        expect(await mounted.fs.ownerOf(block.block * mounted.fs.blockSize), path).toEqual({
          kind: "structure",
          structure: want,
          path,
        });
        found++;
      }
    }
    // Block maps always need indirect blocks for these files; extent trees only when a file has more than 4 extents.
    if (!opts.extents) expect(found).toBeGreaterThan(0);
  });

  if (opts.tsk) {
    it("lists the same paths, types, inodes and sizes as The Sleuth Kit (fls -r -p -l)", () => {
      const { built, mounted } = get();
      const { entries: tsk, viaDebugfs } = flsList(built.image);
      // Only the large directory of the 1 KiB ext4 image (a two-leaf extent tree) defeats fls.
      expect(
        viaDebugfs.every((p) => p === "big"),
        viaDebugfs.join(),
      ).toBe(true);
      const ours = new Map<string, { type: string; inode: number; size: number }>();
      for (const [p, e] of mounted.entries) {
        // fls prints control characters in names as "^".
        const path = Array.from(p, (ch) => (ch.charCodeAt(0) < 0x20 ? "^" : ch)).join("");
        ours.set(path, {
          type: e.type,
          inode: e.ref as number,
          size: e.type === "file" || e.type === "symlink" ? e.size : 0,
        });
      }
      for (const v of tsk.values()) if (v.type === "dir") v.size = 0;
      expect([...ours.keys()].sort()).toEqual([...tsk.keys()].sort());
      for (const [path, v] of tsk) expect(ours.get(path), path).toEqual(v);
    });

    it("reads files and symlink targets as icat does", async () => {
      const { built, mounted } = get();
      let n = 0;
      let big = 0;
      for (const [path, e] of mounted.entries) {
        // Each icat is a process: a sample of the large directory and of the small files, every
        // symlink, and the sparse and fragmented files (not the 80 MiB one: icat takes over a minute
        // on its triple-indirect map).
        const sampled =
          e.type === "symlink" ||
          /^(sparse-48m\.bin|frag\/big|linked\.bin|sizes\/size-(1|60|61|4097|65537|274433))$/.test(path);
        if (path.startsWith("big/") ? big++ % 300 !== 0 : !sampled && n++ % 5 !== 0) continue;
        if (e.type === "file")
          expect(sha256(icat(built.image, e.ref as number)), path).toBe(sha256(await readWhole(mounted.fs, e)));
        // icat reads a fast symlink's data as zeros; istat prints its target.
        const target = () =>
          istatTarget(built.image, e.ref as number) ?? icat(built.image, e.ref as number).toString("utf8");
        if (e.type === "symlink") expect(target(), path).toBe(e.target);
      }
    }, 240_000);
  }
}

async function first<T>(it: AsyncIterable<T>): Promise<T | undefined> {
  for await (const x of it) return x;
  return undefined;
}

/** The raw image as a device. */
export function rawDevice(image: string): () => Promise<FileDevice> {
  return () => FileDevice.open(image);
}
