// `vhdx info` on a 64 TiB dynamic image against `qemu-img info` (issue 8). No budget is set for it yet.
import { timeProcess, vhdx } from "../lib.mjs";

export default {
  id: "info-64t",
  title: "info, 64 TiB dynamic image",
  async setup(inputs) {
    return inputs.dynamic64TiB();
  },
  // The report must describe the image it was given: 64 TiB, every one of its 2,097,152 payload entries counted.
  verify(img) {
    const info = JSON.parse(timeProcess(vhdx("info", "--json", img.path), { stdout: "pipe" }).stdout.toString());
    const payload = Object.values(info.bat?.payload ?? {}).reduce((a, b) => a + b, 0);
    const blocks = Math.ceil(img.virtualSize / img.blockSize);
    if (info.virtualSize !== img.virtualSize || payload !== blocks) {
      throw new Error(
        `vhdx info --json reports ${info.virtualSize} bytes and ${payload} payload entries, expected ${img.virtualSize} and ${blocks}`,
      );
    }
  },
  ours: (img) => vhdx("info", img.path),
  theirs: (img) => ({ cmd: "qemu-img", args: ["info", img.path] }),
  budget: null,
};
