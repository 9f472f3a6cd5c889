// `vhdx ls -R` of an NTFS volume holding 100,000 files in one folder (mkntfs, ntfs-3g, a dynamic
// VHDX from qemu-img) against The Sleuth Kit's `fls -r -p` on the same volume as raw.
// Budget: the whole process under 2 s.
import { ntfs100k } from "../ntfs100k.mjs";
import { timeProcess, vhdx } from "../lib.mjs";

export default {
  id: "ntfs-ls-100k",
  title: "ls -R, NTFS with 100,000 files in one folder",
  setup: (inputs) => ntfs100k(inputs),
  // Every entry listed, as many as fls lists (its metafiles and $OrphanFiles left out).
  verify(img) {
    const ours = JSON.parse(timeProcess(vhdx("ls", "-R", "--json", img.path), { stdout: "pipe" }).stdout.toString());
    if (ours.length !== img.entries) throw new Error(`vhdx ls -R lists ${ours.length} entries, not ${img.entries}`);
    const fls = timeProcess({ cmd: "fls", args: ["-r", "-p", img.raw] }, { stdout: "pipe" }).stdout.toString();
    const theirs = fls.split("\n").filter((l) => /^[dr]\/[dr] \d+-\d+-\d+:\t[^$]/.test(l)).length;
    if (theirs !== img.entries) throw new Error(`fls lists ${theirs} entries, not ${img.entries}`);
  },
  ours: (img) => vhdx("ls", "-R", img.path),
  theirs: (img) => ({ cmd: "fls", args: ["-r", "-p", img.raw] }),
  budget: { maxMs: 2000, text: "ours < 2 s" },
};
