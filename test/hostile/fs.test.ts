/**
 * Hostile file systems and partition tables: mutated boot sectors (BPB), FATs, directory
 * entries, GPT headers and entry arrays, MBRs and EBRs, starting from volumes made by mkfs.fat,
 * mcopy, sgdisk and sfdisk. Listing, stat, reading and ownerOf either succeed or throw an FsError
 * naming the structure, and finish in bounded time.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { FsError } from "../../src/fs/errors";
import { listVolumes, volumeDevice } from "../../src/fs/partitions/volumes";
import { mount } from "../../src/fs/registry";
import type { BlockDevice, FsEntry } from "../../src/fs/types";
import { parseBootSector } from "../../src/fs/fat/bootSector";
import type { PatchedBytes } from "../helpers/guardedBackend";
import { missingTools } from "../helpers/tools";
import { FAT_TOOLS, fatFixtures, type Fixtures } from "../fs/fatFixtures";
import { mutate, mutationArb, type Mutation, type Seed } from "./properties";

const RUNS = Number(process.env.VHDX_FUZZ_RUNS ?? 150);
/** Entries listed per case at most: more than any seed holds, so reaching it means a walk ran away. */
const ENTRY_LIMIT = 20_000;
/** Time one case may take. */
const CASE_MS = 10_000;
const skip = missingTools(...FAT_TOOLS);

function deviceOf(b: PatchedBytes): BlockDevice {
  return {
    size: b.length,
    read: async (o, l) => {
      if (o < 0 || l < 0 || o + l > b.length) throw new FsError("FS_OUT_OF_RANGE", `read of ${l} at ${o}`, "device", o);
      return b.get(o, l);
    },
  };
}

/** Every read-only entry point over a device: each FsError is accepted, anything else fails the case. */
async function exercise(device: BlockDevice, fullWalk: boolean): Promise<void> {
  const tolerate = async (f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      expect(e.structure.length).toBeGreaterThan(0);
    }
  };
  await tolerate(async () => {
    const t = await listVolumes(device, 512);
    for (const v of t.volumes) {
      if (v.fileSystem === null) continue;
      await tolerate(async () => {
        const fs = await mount(volumeDevice(device, v));
        let listed = 0;
        const stack: FsEntry[] = [await fs.root()];
        while (stack.length > 0) {
          const dir = stack.pop()!;
          await tolerate(async () => {
            for await (const e of fs.readDir(dir)) {
              if (++listed > ENTRY_LIMIT) throw new Error(`more than ${ENTRY_LIMIT} entries: a walk that runs away`);
              if (e.type === "dir" && fullWalk) stack.push(e);
              if (e.type === "file" && (fullWalk || listed < 50)) {
                await tolerate(async () => {
                  for await (const x of fs.extents(e)) void x;
                  await fs.read(e, 0, Math.min(e.size, 70_000));
                  if (e.size > 0) await fs.read(e, e.size - 1, 1);
                });
              }
            }
          });
          if (!fullWalk && listed >= 50) break;
        }
        for (const at of [0, 512, fs.size >> 1, fs.size - 1]) await tolerate(async () => void (await fs.ownerOf(at)));
      });
    }
  });
}

function property(seed: Seed, fullWalk: boolean) {
  return fc.asyncProperty(fc.array(mutationArb(seed), { minLength: 1, maxLength: 4 }), async (ms: Mutation[]) => {
    const b = mutate(seed.bytes, ms, false);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`a case took more than ${CASE_MS} ms`)), CASE_MS);
    });
    try {
      await Promise.race([exercise(deviceOf(b), fullWalk), timeout]);
    } finally {
      clearTimeout(timer);
    }
  });
}

describe.skipIf(skip)("hostile FAT volumes and partition tables", () => {
  let fx: Fixtures;
  beforeAll(() => {
    fx = fatFixtures();
  }, 300_000);

  it(`mutated FAT12 volumes (boot sector, both FATs, root directory, directories): ${RUNS} cases`, async () => {
    const bytes = new Uint8Array(readFileSync(fx.volumes[12].image));
    const bs = parseBootSector(bytes.subarray(0, 512), bytes.length);
    const fat = bs.reservedSectors * 512;
    const root = fat + bs.numFats * bs.fatSize * 512;
    const seed: Seed = {
      name: "fat12",
      bytes,
      targets: [
        [0, 512],
        [fat, bs.fatSize * 512],
        [fat + bs.fatSize * 512, bs.fatSize * 512],
        [root, bs.rootDirSectors * 512],
        [bs.firstDataSector * 512, 64 * 1024],
      ],
    };
    await exercise(deviceOf(mutate(bytes, [], false)), true);
    await fc.assert(property(seed, true), { numRuns: RUNS, seed: Number(process.env.VHDX_FUZZ_SEED ?? 0x5eed) });
  }, 600_000);

  it(`mutated FAT32 boot sectors, FSInfo and FATs: ${RUNS} cases`, async () => {
    const bytes = new Uint8Array(readFileSync(fx.volumes[32].image));
    const bs = parseBootSector(bytes.subarray(0, 512), bytes.length);
    const fat = bs.reservedSectors * 512;
    const data = bs.firstDataSector * 512;
    const seed: Seed = {
      name: "fat32",
      bytes,
      targets: [
        [0, 1024],
        [fat, 4096],
        [fat + bs.fatSize * 512, 4096],
        [data, 32 * 1024],
      ],
    };
    await fc.assert(property(seed, false), { numRuns: RUNS, seed: Number(process.env.VHDX_FUZZ_SEED ?? 0x5eed) ^ 32 });
  }, 600_000);

  it(`mutated GPT (both headers and entry arrays) and MBR/EBR chains: ${RUNS} cases each`, async () => {
    const gpt = new Uint8Array(readFileSync(fx.disks.find((d) => d.name === "gpt")!.raw));
    const last = gpt.length - 33 * 512;
    await fc.assert(
      property(
        {
          name: "gpt",
          bytes: gpt,
          targets: [
            [0, 34 * 512],
            [last, 33 * 512],
          ],
        },
        false,
      ),
      {
        numRuns: RUNS,
        seed: Number(process.env.VHDX_FUZZ_SEED ?? 0x5eed) ^ 0x69,
      },
    );
    const d = fx.disks.find((x) => x.name === "mbr")!;
    const mbr = new Uint8Array(readFileSync(d.raw));
    const p5 = d.partitions.find((p) => p.number === 5)!;
    const p6 = d.partitions.find((p) => p.number === 6)!;
    const ext = d.partitions.find((p) => p.number === 2)!;
    const targets: [number, number][] = [
      [0, 512],
      [ext.startSector * 512, 512],
      [(p5.startSector + p5.sectors) * 512, (p6.startSector - p5.startSector - p5.sectors) * 512],
    ];
    await fc.assert(property({ name: "mbr", bytes: mbr, targets }, false), {
      numRuns: RUNS,
      seed: Number(process.env.VHDX_FUZZ_SEED ?? 0x5eed) ^ 0x4d,
    });
  }, 600_000);
});
