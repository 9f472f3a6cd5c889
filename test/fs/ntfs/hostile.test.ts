/**
 * Hostile NTFS volumes: a small volume made by mkntfs and ntfs-3g, mutated by fast-check in its
 * boot sector, the first MFT records, the root's and a folder's records and index blocks. Mount,
 * list every folder, read every file and ask owners: each succeeds or throws an FsError naming a
 * structure; nothing hangs (each case is bounded in entries visited and bytes read).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { MemoryDevice } from "../../../src/fs/device";
import { NtfsFileSystem } from "../../../src/fs/ntfs/fileSystem";
import { useTempDir } from "../../helpers/tmp";
import { missingTools } from "../../helpers/tools";
import { mutateAndWalk, walkBounded } from "../helpers";

const tmp = useTempDir("vhdx-ntfs-hostile-");
const skip = missingTools("mkntfs", "ntfs-3g", "fusermount");
let seed = new Uint8Array(0);
let targets: [number, number][] = [];

beforeAll(async () => {
  if (skip) return;
  const image = tmp.path("seed.img");
  execFileSync("truncate", ["-s", "8M", image]);
  execFileSync("mkntfs", ["-q", "-F", "-Q", image], { stdio: "ignore" });
  const mnt = tmp.path("mnt");
  mkdirSync(mnt);
  execFileSync("ntfs-3g", [image, mnt]);
  try {
    mkdirSync(join(mnt, "dir/sub"), { recursive: true });
    for (let i = 0; i < 60; i++) writeFileSync(join(mnt, `dir/file ${i}.txt`), Buffer.alloc(i * 97, i));
    writeFileSync(join(mnt, "dir/sub/big.bin"), Buffer.alloc(200_000, 7));
  } finally {
    execFileSync("fusermount", ["-u", mnt]);
  }
  seed = new Uint8Array(readFileSync(image));
  const fs = await NtfsFileSystem.mount(new MemoryDevice(seed));
  const rs = fs.bs.mftRecordSize;
  const mft = fs.bs.mftLcn * fs.bs.bytesPerCluster;
  targets = [
    [0, 512],
    [mft, rs],
    [mft + 5 * rs, rs],
    [mft + 64 * rs, rs * 4],
  ];
  const root = await fs.root();
  for await (const e of fs.readDir(root)) {
    if (e.name !== "dir") continue;
    const loaded = await fs.load((e.ref as [number])[0]);
    const alloc = loaded.attributes.find((a) => a.type === 0xa0 && a.runs.length);
    if (alloc) targets.push([alloc.runs[0].lcn! * fs.bs.bytesPerCluster, 4096]);
  }
});

async function exercise(img: Uint8Array): Promise<void> {
  const fs = await NtfsFileSystem.mount(new MemoryDevice(img));
  await walkBounded(fs, { entries: 2000, bytes: 32 << 20 }, [img.length >> 1]);
}

describe.skipIf(!!skip)("hostile NTFS volumes", () => {
  it("mount, list, read and owners succeed or throw FsError", async () => {
    await exercise(seed);
    expect(targets.length).toBe(5);
    await mutateAndWalk({ seed, targets, value: fc.integer({ min: 0, max: 255 }), exercise, numRuns: 150 });
  });
});
