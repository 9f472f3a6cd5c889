/**
 * Hostile ext volumes: small images made by mke2fs, mutated by fast-check in their superblock,
 * group descriptors, inodes, extent headers and directory blocks. Mounting, listing, stat, reading
 * and ownerOf must each succeed or throw an FsError naming a structure (with an offset where the
 * structure has one), within a time and read budget.
 */
import fc from "fast-check";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FsError } from "../../../src/fs/errors";
import { extDriver } from "../../../src/fs/ext4";
import type { BlockDevice, FileSystem, FsEntry } from "../../../src/fs/types";
import { useTempDir } from "../../helpers/tmp";
import { missingTools } from "../../helpers/tools";
import { makeImage } from "./fixture";

const RUNS = Number(process.env.VHDX_FUZZ_RUNS ?? 300);
const skip = missingTools("mke2fs", "e2fsck");

/** A device over bytes that counts what is read, so a runaway loop shows as a budget overrun. */
class CountingDevice implements BlockDevice {
  bytesRead = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly budget: number,
  ) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new FsError("FS_OUT_OF_RANGE", `read of ${length} at ${offset}`, "device", offset);
    }
    this.bytesRead += length;
    if (this.bytesRead > this.budget) throw new Error(`read budget of ${this.budget} bytes exceeded`);
    return this.bytes.slice(offset, offset + length);
  }
}

interface Seed {
  name: string;
  bytes: Uint8Array;
  /** [start, length] ranges of the structures worth mutating. */
  targets: [number, number][];
}

/** Lists, stats, reads and asks ownerOf over a (possibly damaged) volume; bounded everywhere. */
async function exercise(fs: FileSystem): Promise<void> {
  const seen = new Set<string>();
  const stack: FsEntry[] = [await fs.root()];
  let entries = 0;
  while (stack.length) {
    const dir = stack.pop()!;
    for await (const e of fs.readDir(dir)) {
      if (++entries > 5000) return;
      if (e.type === "dir" && !seen.has(String(e.ref)) && e.path.split("/").length < 40) {
        seen.add(String(e.ref));
        stack.push(e);
      }
      if (e.type === "file" || e.type === "symlink") {
        await fs.read(e, 0, Math.min(e.size, 256 * 1024));
        if (e.size > 4096) await fs.read(e, e.size - 4096, 4096);
        let n = 0;
        for await (const x of fs.extents(e)) if (++n > 1000 || x.length < 0) break;
      }
    }
  }
  for (const at of [0, 1024, 2048, fs.size >> 1, fs.size - 1]) await fs.ownerOf(at);
}

async function caseHolds(seed: Seed, bytes: Uint8Array): Promise<void> {
  const device = new CountingDevice(bytes, bytes.length * 64);
  const work = (async () => {
    const fs = await extDriver.mount(device);
    await exercise(fs);
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${seed.name}: a case ran over 10 s`)), 10_000);
  });
  try {
    await Promise.race([work, timeout]);
  } catch (e) {
    if (!(e instanceof FsError)) throw e;
    expect(e.structure.length).toBeGreaterThan(0);
    expect(e.message.length).toBeGreaterThan(0);
  } finally {
    clearTimeout(timer);
  }
}

type Mutation =
  { at: number; kind: "flip"; bit: number } | { at: number; kind: "set"; width: 1 | 2 | 4; value: number };

const BOUNDARY = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x8000, 0xf30a, 0x7fffffff, 0x80000000, 0xffffffff, 12, 4096, 65535,
];

function mutationArb(seed: Seed): fc.Arbitrary<Mutation> {
  const anywhere = fc.integer({ min: 0, max: seed.bytes.length - 1 });
  const aimed = fc.oneof(...seed.targets.map(([s, l]) => fc.integer({ min: s, max: s + l - 1 })));
  const at = fc.oneof({ arbitrary: aimed, weight: 5 }, { arbitrary: anywhere, weight: 1 });
  return fc.oneof(
    fc.record({ at, kind: fc.constant("flip" as const), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({
      at,
      kind: fc.constant("set" as const),
      width: fc.constantFrom(1 as const, 2 as const, 4 as const),
      value: fc.oneof(fc.constantFrom(...BOUNDARY), fc.integer({ min: 0, max: 0xffffffff })),
    }),
  );
}

function apply(bytes: Uint8Array, ms: Mutation[]): Uint8Array {
  const out = bytes.slice();
  for (const m of ms) {
    if (m.kind === "flip") out[m.at] ^= 1 << m.bit;
    else for (let i = 0; i < m.width && m.at + i < out.length; i++) out[m.at + i] = (m.value >>> (8 * i)) & 0xff;
  }
  return out;
}

/**
 * The structures of a seed: superblock, descriptors, the first inodes, every directory block,
 * extent tree and indirect blocks (found through ownerOf over every block of the small volume).
 */
async function targetsOf(bytes: Uint8Array): Promise<[number, number][]> {
  const fs = await extDriver.mount(new CountingDevice(bytes, Infinity));
  const targets: [number, number][] = [
    [1024, 1024],
    [fs.blockSize * (fs.blockSize === 1024 ? 2 : 1), 256],
  ];
  for (let off = 0; off < bytes.length; off += fs.blockSize) {
    const o = await fs.ownerOf(off);
    if (o.kind !== "structure") continue;
    const firstInodes = /^inode ([1-9]|[12]\d|3[0-2]) \(/.test(o.structure);
    if (firstInodes || o.structure === "directory" || o.structure === "extent tree" || o.structure === "indirect block")
      targets.push([off, fs.blockSize]);
  }
  return targets;
}

describe.skipIf(skip)("hostile ext volumes", () => {
  const tmp = useTempDir("ext4-hostile-");
  const seeds: Seed[] = [];

  beforeAll(async () => {
    const tree = tmp.path("tree");
    mkdirSync(join(tree, "dir/sub"), { recursive: true });
    for (let i = 0; i < 150; i++)
      writeFileSync(join(tree, "dir", `name-${i}-${"y".repeat(i % 30)}`), `file ${i}\n`.repeat(i));
    writeFileSync(
      join(tree, "dir/sub/big"),
      new Uint8Array(300_000).map((_, i) => i * 7),
    );
    writeFileSync(join(tree, "tiny"), "abc");
    const configs: [string, string[]][] = [
      ["ext4-csum", ["-t", "ext4", "-b", "1024"]],
      ["ext2", ["-t", "ext2", "-b", "1024"]],
      ["ext4-inline", ["-t", "ext4", "-b", "1024", "-O", "inline_data"]],
    ];
    for (const [name, options] of configs) {
      const image = tmp.path(`${name}.img`);
      makeImage(tree, image, 2, options);
      const bytes = new Uint8Array(readFileSync(image));
      seeds.push({ name, bytes, targets: await targetsOf(bytes) });
    }
  }, 120_000);

  it("every seed lists and reads cleanly before mutation", async () => {
    expect(seeds.length).toBe(3);
    for (const s of seeds) {
      const fs = await extDriver.mount(new CountingDevice(s.bytes, Infinity));
      expect(fs.findings, s.name).toEqual([]);
      await exercise(fs);
      expect(s.targets.length, s.name).toBeGreaterThan(4);
    }
  });

  for (const name of ["ext4-csum", "ext2", "ext4-inline"]) {
    it(`${name}: ${RUNS} mutated volumes list, stat, read and answer ownerOf or throw FsError`, async () => {
      const seed = seeds.find((s) => s.name === name)!;
      await fc.assert(
        fc.asyncProperty(fc.array(mutationArb(seed), { minLength: 1, maxLength: 6 }), async (ms) => {
          await caseHolds(seed, apply(seed.bytes, ms));
        }),
        { numRuns: RUNS, seed: Number(process.env.VHDX_FUZZ_SEED ?? 0xe4) ^ seed.bytes.length },
      );
    }, 300_000);
  }
});
