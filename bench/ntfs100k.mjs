// An NTFS volume with 100,000 files in one folder ("big"), made by mkntfs and filled through
// ntfs-3g, in a dynamic VHDX from qemu-img (the raw image kept for The Sleuth Kit). Shared by the
// `vhdx ls -R` row and the Files tab row.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { run } from "./lib.mjs";

export const FILES = 100_000;

export function ntfs100k(inputs) {
  return inputs.get("ntfs-100k.vhdx", (path) => {
    const raw = inputs.path("ntfs-100k.raw");
    const mnt = inputs.path("ntfs-100k-mnt");
    run("truncate", ["-s", "1G", raw]);
    run("mkntfs", ["-q", "-F", "-Q", "-L", "BENCH", raw]);
    mkdirSync(mnt, { recursive: true });
    run("ntfs-3g", [raw, mnt]);
    try {
      mkdirSync(`${mnt}/big`);
      // touch through xargs: one process per few thousand names.
      execFileSync("sh", ["-c", `cd "${mnt}/big" && seq -f "file %06g.txt" 1 ${FILES} | xargs -d '\\n' touch`]);
    } finally {
      run("fusermount", ["-u", mnt]);
    }
    run("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", raw, path]);
    return { path, raw, entries: FILES + 1 };
  });
}
