// raw → dynamic VHDX (issue 4): `vhdx convert in.raw out.vhdx` against `qemu-img convert -O vhdx`
// on a 1 GiB raw disk with every other 8 MiB block random and the rest zero, the zero blocks left
// as holes in the raw file. Both tools skip the holes without reading them: QEMU asks for them
// with SEEK_DATA/SEEK_HOLE, ours takes the extent map filefrag reads (src/node/holes.ts). 05b is
// the same disk with its zeros written out, read whole by both. Budget: no slower than QEMU, and
// an output no larger than QEMU's.
import { createHash } from "node:crypto";
import { createReadStream, rmSync, statSync } from "node:fs";
import { fmtBytes, freshPath, run, timeProcess, vhdx } from "../lib.mjs";

async function sha256(path) {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest("hex");
}

export function convertRow({ id, title, raw }) {
  return {
    id,
    title,
    async setup(inputs) {
      const dir = inputs.dir;
      return {
        raw: await raw(inputs),
        dir,
        ours: freshPath(dir, `${id}-ours`, "vhdx"),
        theirs: freshPath(dir, `${id}-qemu`, "vhdx"),
        back: freshPath(dir, `${id}-back`, "raw"),
      };
    },
    // QEMU's reading of our output must be the input, byte for byte; both output sizes are kept.
    async verify(c) {
      timeProcess(vhdx("convert", c.raw, c.ours));
      run("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", c.ours, c.back]);
      const same = (await sha256(c.back)) === (await sha256(c.raw));
      rmSync(c.back, { force: true });
      run("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", c.raw, c.theirs]);
      c.oursBytes = statSync(c.ours).size;
      c.qemuBytes = statSync(c.theirs).size;
      rmSync(c.theirs, { force: true });
      rmSync(c.ours, { force: true });
      if (!same) throw new Error("QEMU reads our converted image differently from the raw input");
    },
    // A fresh output path every run: a run refused because its output exists is never timed.
    beforeEach: (c, side) => {
      if (side === "ours") c.ours = freshPath(c.dir, `${id}-ours`, "vhdx");
      else c.theirs = freshPath(c.dir, `${id}-qemu`, "vhdx");
    },
    ours: (c) => vhdx("convert", c.raw, c.ours),
    theirs: (c) => ({ cmd: "qemu-img", args: ["convert", "-f", "raw", "-O", "vhdx", c.raw, c.theirs] }),
    afterEach: (c) => {
      rmSync(c.ours, { force: true });
      rmSync(c.theirs, { force: true });
    },
    note: (c) => `output ${fmtBytes(c.oursBytes)} (ours) vs ${fmtBytes(c.qemuBytes)} (QEMU)`,
    extraMet: (c) => c.oursBytes <= c.qemuBytes,
    budget: { maxRatio: 1.0, text: "ours ≤ QEMU, output no larger" },
  };
}

export default convertRow({
  id: "convert-raw-1g",
  title: "convert raw → dynamic VHDX, 1 GiB, half zero (holes)",
  raw: async (inputs) => (await inputs.dynamic1GiBHalf()).raw,
});
