// VHD → VHDX: `vhdx convert in.vhd out.vhdx` against `qemu-img convert -f vpc -O vhdx` on a 1 GiB
// dynamic VHD (qemu-img made from row 11's raw disk, force_size so it keeps 1 GiB exactly; 2 MiB
// blocks, every other 32 MiB written). Fresh outputs every run; before timing, our output must pass
// `qemu-img check` and read as the raw disk the VHD was made from (qemu-img compare).
import { rmSync, statSync } from "node:fs";
import { fmtBytes, freshPath, run, timeProcess, vhdx } from "../lib.mjs";

export default {
  id: "convert-vhd-vhdx-1g",
  title: "convert dynamic VHD → dynamic VHDX, 1 GiB, half written",
  async setup(inputs) {
    const src = await inputs.dynamic1GiBHalf32M();
    const vhd = await inputs.get("dynamic-1g-half.vhd", (path) => {
      run("qemu-img", ["convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", src.raw, path]);
      return { path };
    });
    return { path: vhd.path, raw: src.raw, dir: inputs.dir };
  },
  async verify(c) {
    const ours = freshPath(c.dir, "vhd-verify-ours", "vhdx");
    try {
      timeProcess(vhdx("convert", c.path, ours));
      run("qemu-img", ["check", "-q", "-f", "vhdx", ours]);
      run("qemu-img", ["compare", "-q", "-f", "vhdx", "-F", "raw", ours, c.raw]);
      c.oursBytes = statSync(ours).size;
    } finally {
      rmSync(ours, { force: true });
    }
  },
  beforeEach: (c, side) => (c.out = freshPath(c.dir, `vhd-${side}`, "vhdx")),
  ours: (c) => vhdx("convert", c.path, c.out),
  theirs: (c) => ({ cmd: "qemu-img", args: ["convert", "-f", "vpc", "-O", "vhdx", c.path, c.out] }),
  afterEach: (c) => rmSync(c.out, { force: true }),
  note: (c) => `output ${fmtBytes(c.oursBytes)}`,
  budget: { maxRatio: 1.0, text: "ours ≤ QEMU" },
};
