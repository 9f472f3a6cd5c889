// `vhdx info` on a 64 TiB dynamic image against `qemu-img info` (issue 8). No budget is set for it yet.
import { vhdx } from "../lib.mjs";

export default {
  id: "info-64t",
  title: "info, 64 TiB dynamic image",
  async setup(inputs) {
    return inputs.dynamic64TiB();
  },
  ours: (img) => vhdx("info", img.path),
  theirs: (img) => ({ cmd: "qemu-img", args: ["info", img.path] }),
  budget: null,
};
