// `vhdx get` of a 1 GiB file from a FAT32 file system in a dynamic VHDX, against `vhdx cat` of
// the same bytes (the file is contiguous: --offset/--length name its clusters, found with TSK's
// istat). Budget (issue 17): get at ≥ 50 % of cat's throughput, i.e. at most twice its time.
import { createHash } from "node:crypto";
import { createReadStream, rmSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import { GiB, MiB, run, timeProcess, vhdx } from "../lib.mjs";

const env = { ...process.env, MTOOLS_SKIP_CHECK: "1" };

async function sha256(path) {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest("hex");
}

export default {
  id: "fat-get-1g",
  title: "get, 1 GiB file from FAT32, vs cat of its bytes",
  async setup(inputs) {
    return inputs.get("fat-1g.vhdx", (path) => {
      const raw = inputs.path("fat-1g.raw");
      const file = inputs.path("BIG.BIN");
      const fd = openSync(file, "w");
      const buf = Buffer.alloc(8 * MiB);
      for (let at = 0; at < GiB; at += buf.length) writeSync(fd, randomFillSync(buf));
      closeSync(fd);
      run("truncate", ["-s", "1100M", raw]);
      run("mkfs.fat", ["-F", "32", "-s", "8", raw]);
      timeProcess({ cmd: "mcopy", args: ["-i", raw, file, "::/"] }, { env });
      run("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", raw, path]);
      // The file's first sector, from The Sleuth Kit (inode of /BIG.BIN, then its sector list).
      const inode = /r\/r (\d+):\tBIG\.BIN/.exec(run("fls", [raw]))[1];
      const first = Number(/Sectors:\s+(\d+)/.exec(run("istat", [raw, inode]))[1]);
      writeFileSync(inputs.path("fat-1g.note"), String(first));
      return { path, file, offset: first * 512, size: GiB, out: inputs.path("fat-1g.out") };
    });
  },
  async verify(img) {
    timeProcess(vhdx("get", img.path, "BIG.BIN"), { stdout: img.out });
    const want = await sha256(img.file);
    const got = await sha256(img.out);
    timeProcess(vhdx("cat", img.path, "--offset", String(img.offset), "--length", String(img.size)), {
      stdout: img.out,
    });
    const cat = await sha256(img.out);
    rmSync(img.out, { force: true });
    if (got !== want) throw new Error("vhdx get output differs from the file put in");
    if (cat !== want) throw new Error("the cat range is not the file's bytes (not contiguous?)");
  },
  ours: (img) => vhdx("get", img.path, "BIG.BIN"),
  theirs: (img) => vhdx("cat", img.path, "--offset", String(img.offset), "--length", String(img.size)),
  budget: { maxRatio: 2.0, text: "get ≥ 50 % of cat's throughput (17)" },
};
