/**
 * Hostile exFAT volumes: a small volume made by mkfs.exfat and exfat-fuse, mutated by fast-check
 * in its boot sector, FAT, root directory and a subdirectory. Mounting, listing every folder,
 * reading every file and asking owners either succeed or throw an FsError naming a structure;
 * nothing hangs (each case is bounded in entries visited and bytes read).
 */
import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { MemoryDevice } from "../../../src/fs/device";
import { ExfatFileSystem } from "../../../src/fs/exfat/fileSystem";
import { readFileSync } from "node:fs";
import { useTempDir } from "../../helpers/tmp";
import { missingTools } from "../../helpers/tools";
import { mutateAndWalk, walkBounded } from "../helpers";
import { bytes, makeExfat } from "./fixture";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const tmp = useTempDir("vhdx-exfat-hostile-");
const skip = missingTools("mkfs.exfat", "mount.exfat-fuse", "losetup", "fusermount");
let seed = new Uint8Array(0);
let targets: [number, number][] = [];

beforeAll(async () => {
  if (skip) return;
  const image = tmp.path("seed.img");
  makeExfat(tmp.dir, image, 4, { label: "SEED", clusterKiB: 4 }, (mnt) => {
    mkdirSync(join(mnt, "dir/sub"), { recursive: true });
    writeFileSync(join(mnt, "dir/a.txt"), bytes(1, 5000));
    writeFileSync(join(mnt, "dir/sub/b with a long name.bin"), bytes(2, 20000));
    writeFileSync(join(mnt, "root.txt"), bytes(3, 100));
  });
  seed = new Uint8Array(readFileSync(image));
  const fs = await ExfatFileSystem.mount(new MemoryDevice(seed));
  const bs = fs.bs;
  const dirOf = async (path: string) => {
    const root = await fs.root();
    for await (const e of fs.readDir(root)) if (e.path === path) return (e.ref as number[])[0];
    return bs.firstClusterOfRootDirectory;
  };
  targets = [
    [0, 512],
    [bs.fatOffset * 512, 64],
    [fs.fat.clusterOffset(bs.firstClusterOfRootDirectory), 512],
    [fs.fat.clusterOffset(await dirOf("dir")), 512],
  ];
});

async function exercise(img: Uint8Array): Promise<void> {
  const fs = await ExfatFileSystem.mount(new MemoryDevice(img));
  await walkBounded(fs, { entries: 5000, bytes: 64 * 1024 * 1024 }, [0, 600 * 512, img.length - 1]);
}

describe.skipIf(!!skip)("hostile exFAT volumes", () => {
  it("mount, list, read and owners succeed or throw FsError", async () => {
    await exercise(seed);
    await mutateAndWalk({
      seed,
      targets,
      value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff, 0x80, 0x85, 0xc0, 0xc1, 1, 2)),
      exercise,
      numRuns: 400,
    });
  });
});
