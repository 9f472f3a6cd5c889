/**
 * exFAT volumes made by the real tools: mkfs.exfat on an image file, attached to a loop device,
 * mounted with exfat-fuse, filled with `cp -a` from a generated tree, unmounted. Needs root (losetup).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { seededBytes as bytes } from "../helpers";

export { bytes };

/** Runs `fill(mountPoint)` on a fresh exFAT volume in `image` (`sizeMiB` MiB, `clusterKiB` clusters). */
export function makeExfat(
  dir: string,
  image: string,
  sizeMiB: number,
  opts: { label?: string; clusterKiB?: number },
  fill: (mnt: string) => void,
): void {
  execFileSync("truncate", ["-s", `${sizeMiB}M`, image]);
  const args = [
    ...(opts.label ? ["-L", opts.label] : []),
    ...(opts.clusterKiB ? ["-c", `${opts.clusterKiB}K`] : []),
    image,
  ];
  execFileSync("mkfs.exfat", args, { stdio: "ignore" });
  const mnt = join(dir, `mnt-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(mnt);
  const loop = execFileSync("losetup", ["-f", "--show", image], { encoding: "utf8" }).trim();
  try {
    execFileSync("mount.exfat-fuse", [loop, mnt], { stdio: "ignore" });
    try {
      fill(mnt);
      execFileSync("sync");
    } finally {
      execFileSync("fusermount", ["-u", mnt]);
    }
  } finally {
    execFileSync("losetup", ["-d", loop]);
    rmSync(mnt, { recursive: true, force: true });
  }
}

/** The tree the tests put in: path → bytes, or null for a folder. */
export function standardTree(clusterBytes: number): Map<string, Buffer | null> {
  const t = new Map<string, Buffer | null>();
  t.set("docs", null);
  t.set("docs/readme.txt", bytes(1, 1234));
  t.set("empty-folder", null);
  t.set("empty-file", Buffer.alloc(0));
  t.set("Ünïcödé ñame — 日本語.txt", bytes(2, 77));
  t.set("a name that is longer than fifteen characters, so it spans several File Name entries.bin", bytes(3, 5000));
  for (const d of [-1, 0, 1]) t.set(`edge${d}.bin`, bytes(10 + d, clusterBytes + d));
  t.set("many", null);
  for (let i = 0; i < 3000; i++) t.set(`many/entry-${String(i).padStart(5, "0")}.txt`, bytes(100 + i, i % 13));
  let deep = "deep";
  t.set(deep, null);
  for (let i = 0; i < 20; i++) {
    deep += `/d${i}`;
    t.set(deep, null);
  }
  t.set(`${deep}/leaf.txt`, bytes(4, 9000));
  return t;
}

/** Writes a tree under `root`, folders first. */
export function writeTree(root: string, tree: Map<string, Buffer | null>): void {
  for (const [p, b] of tree) {
    if (b === null) mkdirSync(join(root, p), { recursive: true });
  }
  for (const [p, b] of tree) if (b !== null) writeFileSync(join(root, p), b);
}

/** Fills the volume with small files, deletes every other one, then writes `big`: a fragmented file. */
export function writeFragmented(root: string, name: string, big: Buffer, fillers: number, fillerBytes: number): void {
  mkdirSync(join(root, "fill"));
  for (let i = 0; i < fillers; i++) writeFileSync(join(root, "fill", `f${i}`), bytes(i, fillerBytes));
  execFileSync("sync");
  for (let i = 0; i < fillers; i += 2) unlinkSync(join(root, "fill", `f${i}`));
  execFileSync("sync");
  writeFileSync(join(root, name), big);
}
