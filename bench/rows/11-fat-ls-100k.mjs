// `vhdx ls -R` of a FAT32 file system holding 100,000 entries (100 folders of 1,000 files, made
// by mkfs.fat and mcopy, in a dynamic VHDX from qemu-img) against The Sleuth Kit's `fls -r -p`
// on the same disk as raw. Budget (issue 17): the whole process under 2 s.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, timeProcess, vhdx } from "../lib.mjs";

const DIRS = 100;
const PER_DIR = 1000;
const env = { ...process.env, MTOOLS_SKIP_CHECK: "1", LANG: "C.UTF-8" };

function build(inputs) {
  return inputs.get("fat-100k.vhdx", (path) => {
    const raw = inputs.path("fat-100k.raw");
    const tree = inputs.path("fat-100k-tree");
    for (let d = 0; d < DIRS; d++) {
      const dir = join(tree, `D${String(d).padStart(3, "0")}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < PER_DIR; f++) writeFileSync(join(dir, `F${String(f).padStart(4, "0")}.TXT`), "");
    }
    run("truncate", ["-s", "256M", raw]);
    run("mkfs.fat", ["-F", "32", raw]);
    timeProcess({ cmd: "sh", args: ["-c", `cd "${tree}" && mcopy -s -i "${raw}" * ::/`] }, { env });
    run("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", raw, path]);
    return { path, raw, entries: DIRS + DIRS * PER_DIR };
  });
}

export default {
  id: "fat-ls-100k",
  title: "ls -R, FAT32 with 100,000 entries",
  setup: (inputs) => build(inputs),
  // Every entry listed, as many as fls lists.
  verify(img) {
    const ours = JSON.parse(timeProcess(vhdx("ls", "-R", "--json", img.path), { stdout: "pipe" }).stdout.toString());
    if (ours.length !== img.entries) throw new Error(`vhdx ls -R lists ${ours.length} entries, not ${img.entries}`);
    const fls = timeProcess({ cmd: "fls", args: ["-r", "-p", img.raw] }, { stdout: "pipe" }).stdout.toString();
    const theirs = fls.split("\n").filter((l) => /^[dr]\/[dr] \d+:\t/.test(l)).length;
    if (theirs !== img.entries) throw new Error(`fls lists ${theirs} entries, not ${img.entries}`);
  },
  ours: (img) => vhdx("ls", "-R", img.path),
  theirs: (img) => ({ cmd: "fls", args: ["-r", "-p", img.raw] }),
  budget: { maxMs: 2000, text: "ours < 2 s (17)" },
};
