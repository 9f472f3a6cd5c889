// `vhdx check` on a 64 TiB dynamic image (2,097,152 payload BAT entries) against `qemu-img check`
// (issue 5). The budget is an absolute one: under a second in Node.
import { timeProcess, vhdx } from "../lib.mjs";

export default {
  id: "check-64t",
  title: "check, 64 TiB dynamic image",
  async setup(inputs) {
    return inputs.dynamic64TiB();
  },
  // The check must have walked this image: clean, and a 64 TiB disk with every BAT entry examined.
  verify(img) {
    const out = JSON.parse(timeProcess(vhdx("check", "--json", img.path), { stdout: "pipe" }).stdout.toString());
    const errors = out.findings.filter((f) => f.severity === "error");
    if (!out.ok || errors.length > 0)
      throw new Error(`vhdx check finds errors in a clean image: ${JSON.stringify(errors)}`);
    if (out.findings.some((f) => f.code === "CHECK_INCOMPLETE")) throw new Error("vhdx check did not reach the BAT");
  },
  ours: (img) => vhdx("check", img.path),
  theirs: (img) => ({ cmd: "qemu-img", args: ["check", "-f", "vhdx", img.path] }),
  budget: { maxMs: 1000, text: "ours < 1 s" },
};
