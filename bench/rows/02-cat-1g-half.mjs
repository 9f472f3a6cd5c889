// Whole-disk read (issue 2): `vhdx cat img > /dev/null` against `qemu-img convert -O raw img tmpfile`
// on a 1 GiB dynamic image with half its blocks written. Budget: at least as fast as QEMU.
import { createHash } from "node:crypto";
import { createReadStream, rmSync } from "node:fs";
import { freshPath, timeProcess, vhdx } from "../lib.mjs";

async function sha256(path) {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest("hex");
}

export default {
  id: "cat-1g-half",
  title: "cat, 1 GiB dynamic, half written",
  async setup(inputs) {
    const img = await inputs.dynamic1GiBHalf();
    return { ...img, dir: inputs.dir, ours: inputs.path("cat-ours-out.raw") };
  },
  // Speed means nothing if the bytes are wrong: both outputs must equal the raw disk the image was made from.
  async verify(img) {
    timeProcess(vhdx("cat", img.path), { stdout: img.ours });
    const want = await sha256(img.raw);
    const got = await sha256(img.ours);
    rmSync(img.ours, { force: true });
    if (got !== want) throw new Error("vhdx cat output differs from the disk the image was made from");
  },
  // QEMU's output is a fresh file every run.
  beforeEach: (img, side) => side === "qemu" && (img.out = freshPath(img.dir, "cat-qemu-out", "raw")),
  ours: (img) => vhdx("cat", img.path),
  theirs: (img) => ({ cmd: "qemu-img", args: ["convert", "-f", "vhdx", "-O", "raw", img.path, img.out] }),
  afterEach: (img) => img.out && rmSync(img.out, { force: true }),
  budget: { maxRatio: 1.0, text: "ours ≤ QEMU" },
};
