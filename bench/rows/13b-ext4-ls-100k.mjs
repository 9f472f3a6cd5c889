// `vhdx ls -R` of an ext4 file system holding 100,000 files (100 folders of 1,000, made by
// `mke2fs -d` from a tree, in a dynamic VHDX from qemu-img) against The Sleuth Kit's `fls -r -p`
// on the same disk as raw. Budget (as for FAT and NTFS): the whole process under 2 s.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, timeProcess, vhdx } from "../lib.mjs";

const DIRS = 100;
const PER_DIR = 1000;

function build(inputs) {
  return inputs.get("ext4-100k.vhdx", (path) => {
    const raw = inputs.path("ext4-100k.raw");
    const tree = inputs.path("ext4-100k-tree");
    for (let d = 0; d < DIRS; d++) {
      const dir = join(tree, `d${String(d).padStart(3, "0")}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < PER_DIR; f++) writeFileSync(join(dir, `file ${String(f).padStart(4, "0")}.txt`), "");
    }
    run("truncate", ["-s", "512M", raw]);
    // One inode per entry and some to spare (the default ratio gives a 512 MiB volume 32,768).
    run("mke2fs", ["-q", "-F", "-t", "ext4", "-N", "131072", "-d", tree, raw]);
    run("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", raw, path]);
    // Every folder and file, and lost+found.
    return { path, raw, entries: DIRS + DIRS * PER_DIR + 1 };
  });
}

export default {
  id: "ext4-ls-100k",
  title: "ls -R, ext4 with 100,000 files in 100 folders",
  setup: (inputs) => build(inputs),
  // Every entry listed, as many as fls lists (its $OrphanFiles left out).
  verify(img) {
    const ours = JSON.parse(timeProcess(vhdx("ls", "-R", "--json", img.path), { stdout: "pipe" }).stdout.toString());
    if (ours.length !== img.entries) throw new Error(`vhdx ls -R lists ${ours.length} entries, not ${img.entries}`);
    const fls = timeProcess({ cmd: "fls", args: ["-r", "-p", img.raw] }, { stdout: "pipe" }).stdout.toString();
    const theirs = fls.split("\n").filter((l) => /^[dr]\/[dr] \d+:\t/.test(l)).length;
    if (theirs !== img.entries) throw new Error(`fls lists ${theirs} entries, not ${img.entries}`);
  },
  ours: (img) => vhdx("ls", "-R", img.path),
  theirs: (img) => ({ cmd: "fls", args: ["-r", "-p", img.raw] }),
  budget: { maxMs: 2000, text: "ours < 2 s" },
};
