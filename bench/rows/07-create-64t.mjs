// Creating a 64 TiB dynamic image (issue 4): `vhdx create --size 64T` against `qemu-img create`.
// The BAT (2,113,535 entries, 17 MiB) starts all zero, so neither side should write it entry by entry.
// Both finish in well under a second; ours is mostly Node's own start-up (`vhdx --version` takes
// about as long), so the row shows the figure without a ratio budget.
import { rmSync } from "node:fs";
import { run, timeProcess, vhdx } from "../lib.mjs";

export default {
  id: "create-64t",
  title: "create, 64 TiB dynamic, 32 MiB blocks",
  async setup(inputs) {
    return { ours: inputs.path("create-ours.vhdx"), theirs: inputs.path("create-qemu.vhdx") };
  },
  // QEMU must accept what we made, with the size asked for.
  async verify(c) {
    timeProcess(vhdx("create", c.ours, "--size", "64T"));
    const info = JSON.parse(run("qemu-img", ["info", "--output=json", c.ours]));
    rmSync(c.ours, { force: true });
    if (info["virtual-size"] !== 64 * 2 ** 40)
      throw new Error(`qemu-img reads a virtual size of ${info["virtual-size"]}`);
  },
  ours: (c) => vhdx("create", c.ours, "--size", "64T"),
  theirs: (c) => ({ cmd: "qemu-img", args: ["create", "-q", "-f", "vhdx", "-o", "block_size=32M", c.theirs, "64T"] }),
  afterEach: (c) => {
    rmSync(c.ours, { force: true });
    rmSync(c.theirs, { force: true });
  },
  budget: null,
};
