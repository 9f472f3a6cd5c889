// `vhdx create` of a 64 TiB dynamic image (32 MiB blocks) against `qemu-img create` (issue 4).
// No budget is set for it in the issues; the table shows the ratio.
import { rmSync } from "node:fs";
import { run, vhdx, timeProcess } from "../lib.mjs";

export default {
  id: "create-64t",
  title: "create, 64 TiB dynamic image",
  async setup(inputs) {
    return { ours: inputs.path("create-ours.vhdx"), theirs: inputs.path("create-qemu.vhdx") };
  },
  // QEMU must see what was asked for: 64 TiB, clean.
  verify(c) {
    timeProcess(vhdx("create", c.ours, "--size", "64T", "--type", "dynamic", "--block-size", "32M"));
    const info = JSON.parse(run("qemu-img", ["info", "--output=json", c.ours]));
    run("qemu-img", ["check", "-q", c.ours]);
    rmSync(c.ours, { force: true });
    if (info["virtual-size"] !== 64 * 2 ** 40) throw new Error(`qemu-img info reports ${info["virtual-size"]} bytes`);
  },
  ours: (c) => vhdx("create", c.ours, "--size", "64T", "--type", "dynamic", "--block-size", "32M"),
  theirs: (c) => ({
    cmd: "qemu-img",
    args: ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=32M", c.theirs, String(64 * 2 ** 40)],
  }),
  afterEach: (c) => {
    rmSync(c.ours, { force: true });
    rmSync(c.theirs, { force: true });
  },
  budget: null,
};
