// Sequential allocating writes (issue 4): 256 MiB of random bytes into an empty 1 GiB dynamic image
// (8 MiB blocks), `vhdx write --offset 0 --input` against `qemu-io -c "write -s …"`.
// Budget: within 1.5× of QEMU. Each run starts from a fresh empty image (rebuilt untimed).
import { randomFillSync } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { run, timeProcess, vhdx, MiB } from "../lib.mjs";

function freshImages(c) {
  for (const p of [c.ours, c.theirs]) {
    rmSync(p, { force: true });
    run("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=8M", p, "1G"]);
  }
}

export default {
  id: "write-seq-256m",
  title: "sequential allocating write, 256 MiB into empty 1 GiB dynamic",
  async setup(inputs) {
    const c = {
      data: inputs.path("write-256m.bin"),
      ours: inputs.path("write-ours.vhdx"),
      theirs: inputs.path("write-qemu.vhdx"),
    };
    writeFileSync(c.data, randomFillSync(Buffer.alloc(256 * MiB)));
    freshImages(c);
    return c;
  },
  // Both sides must end with the same virtual disk.
  async verify(c) {
    timeProcess(vhdx("write", c.ours, "--offset", "0", "--input", c.data));
    run("qemu-io", ["-f", "vhdx", "-c", `write -q -s ${c.data} 0 256M`, c.theirs]);
    const r = run("qemu-img", ["compare", "-f", "vhdx", "-F", "vhdx", c.ours, c.theirs]);
    freshImages(c);
    if (!/identical/i.test(r)) throw new Error("the two images differ after the write");
  },
  ours: (c) => vhdx("write", c.ours, "--offset", "0", "--input", c.data),
  theirs: (c) => ({ cmd: "qemu-io", args: ["-f", "vhdx", "-c", `write -q -s ${c.data} 0 256M`, c.theirs] }),
  afterEach: (c) => freshImages(c),
  budget: { maxRatio: 1.5, text: "ours ≤ 1.5× QEMU" },
};
