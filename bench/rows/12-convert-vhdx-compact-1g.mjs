// VHDX → VHDX (compaction): `vhdx convert img out.vhdx` against `qemu-img convert -f vhdx -O vhdx`
// on the 1 GiB image of row 11 (qemu-img made, 32 MiB blocks, half of them written). Fresh outputs
// every run; before timing, our output must pass `qemu-img check` and read as the raw disk the
// image was made from (qemu-img compare), and be no larger than QEMU's.
import { rmSync, statSync } from "node:fs";
import { fmtBytes, freshPath, run, timeProcess, vhdx } from "../lib.mjs";

export default {
  id: "convert-vhdx-compact-1g",
  title: "convert dynamic VHDX → dynamic VHDX (compact), 1 GiB, half written",
  async setup(inputs) {
    return { ...(await inputs.dynamic1GiBHalf32M()), dir: inputs.dir };
  },
  async verify(c) {
    const ours = freshPath(c.dir, "compact-verify-ours", "vhdx");
    const theirs = freshPath(c.dir, "compact-verify-qemu", "vhdx");
    try {
      timeProcess(vhdx("convert", c.path, ours));
      run("qemu-img", ["check", "-q", "-f", "vhdx", ours]);
      run("qemu-img", ["compare", "-q", "-f", "vhdx", "-F", "raw", ours, c.raw]);
      run("qemu-img", ["convert", "-f", "vhdx", "-O", "vhdx", c.path, theirs]);
      c.oursBytes = statSync(ours).size;
      c.qemuBytes = statSync(theirs).size;
    } finally {
      rmSync(ours, { force: true });
      rmSync(theirs, { force: true });
    }
  },
  beforeEach: (c, side) => (c.out = freshPath(c.dir, `compact-${side}`, "vhdx")),
  ours: (c) => vhdx("convert", c.path, c.out),
  theirs: (c) => ({ cmd: "qemu-img", args: ["convert", "-f", "vhdx", "-O", "vhdx", c.path, c.out] }),
  afterEach: (c) => rmSync(c.out, { force: true }),
  note: (c) => `output ${fmtBytes(c.oursBytes)} (ours) vs ${fmtBytes(c.qemuBytes)} (QEMU)`,
  extraMet: (c) => c.oursBytes <= c.qemuBytes,
  budget: { maxRatio: 1.0, text: "ours ≤ QEMU, output no larger" },
};
