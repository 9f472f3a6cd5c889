// `vhdx get` of a 1 GiB file from an NTFS volume (mkntfs, written through ntfs-3g) in a dynamic
// VHDX, against `vhdx cat` of the same bytes: the file's clusters, from The Sleuth Kit's istat,
// must be one run (checked). Budget (issue 18): get at ≥ 50 % of cat's throughput.
import { createHash, randomFillSync } from "node:crypto";
import { closeSync, createReadStream, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { GiB, MiB, run, timeProcess, vhdx } from "../lib.mjs";

async function sha256(path) {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest("hex");
}

export default {
  id: "ntfs-get-1g",
  title: "get, 1 GiB file from NTFS, vs cat of its bytes",
  async setup(inputs) {
    return inputs.get("ntfs-1g.vhdx", (path) => {
      const raw = inputs.path("ntfs-1g.raw");
      const mnt = inputs.path("ntfs-1g-mnt");
      // 3 GiB (sparse): in a 1.1 GiB volume ntfs-3g splits the file around the MFT zone.
      run("truncate", ["-s", "3G", raw]);
      run("mkntfs", ["-q", "-F", "-Q", "-L", "GET", raw]);
      mkdirSync(mnt, { recursive: true });
      run("ntfs-3g", [raw, mnt]);
      // Written straight into the volume (no second copy on disk); its SHA-256 taken on the way.
      const h = createHash("sha256");
      try {
        const fd = openSync(`${mnt}/big.bin`, "w");
        const buf = Buffer.alloc(8 * MiB);
        for (let at = 0; at < GiB; at += buf.length) {
          randomFillSync(buf);
          h.update(buf);
          writeSync(fd, buf);
        }
        closeSync(fd);
      } finally {
        run("fusermount", ["-u", mnt]);
      }
      run("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", raw, path]);
      // The file's clusters (istat lists its $DATA clusters); one run is required for the cat range.
      const inode = /r\/r (\d+-\d+-\d+):\tbig\.bin/.exec(run("fls", [raw]))[1];
      const stat = run("istat", [raw, inode]);
      const bytesPerCluster = Number(/Cluster Size: (\d+)/.exec(run("fsstat", [raw]))[1]);
      const data = stat.slice(stat.indexOf("Type: $DATA"));
      const clusters = data
        .split("\n")
        .slice(1)
        .join(" ")
        .trim()
        .split(/\s+/)
        .filter((x) => /^\d+$/.test(x))
        .map(Number);
      for (let i = 1; i < clusters.length; i++)
        if (clusters[i] !== clusters[i - 1] + 1) throw new Error(`big.bin is fragmented at cluster ${clusters[i - 1]}`);
      if (clusters.length * bytesPerCluster !== GiB) throw new Error(`istat lists ${clusters.length} clusters`);
      rmSync(raw);
      return {
        path,
        sha: h.digest("hex"),
        offset: clusters[0] * bytesPerCluster,
        size: GiB,
        out: inputs.path("ntfs-1g.out"),
      };
    });
  },
  async verify(img) {
    timeProcess(vhdx("get", img.path, "big.bin"), { stdout: img.out });
    const got = await sha256(img.out);
    timeProcess(vhdx("cat", img.path, "--offset", String(img.offset), "--length", String(img.size)), {
      stdout: img.out,
    });
    const cat = await sha256(img.out);
    rmSync(img.out, { force: true });
    if (got !== img.sha) throw new Error("vhdx get output differs from the file put in");
    if (cat !== img.sha) throw new Error("the cat range is not the file's bytes");
  },
  ours: (img) => vhdx("get", img.path, "big.bin"),
  theirs: (img) => vhdx("cat", img.path, "--offset", String(img.offset), "--length", String(img.size)),
  budget: { maxRatio: 2.0, text: "get ≥ 50 % of cat's throughput (18)" },
};
