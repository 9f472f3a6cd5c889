// VHDX → raw: `vhdx convert img out.raw --format raw` against `qemu-img convert -f vhdx -O raw` on
// qemu-img-made dynamic images (32 MiB blocks). Every run writes a fresh output (freshPath), so no
// run is refused or helped by an earlier one's file; before any timing our output must read as the
// raw disk the image was made from (qemu-img compare, which skips the holes of both raw files) and
// take no more disk space than that disk's data: zero runs are holes, as QEMU leaves them.
// 11b and 11c are the same row on a 64 GiB image with 1 GiB written and on an empty 8 TiB image.
import { rmSync, statSync } from "node:fs";
import { fmtBytes, freshPath, run, timeProcess, vhdx } from "../lib.mjs";

/** Our output must equal the raw disk (or, with none, be all holes), and be no less sparse. */
export function checkRawOutput(c, out) {
  const got = statSync(out);
  if (got.size !== c.virtualSize) throw new Error(`our output is ${got.size} bytes, the disk ${c.virtualSize}`);
  const allocated = got.blocks * 512;
  if (c.raw) {
    run("qemu-img", ["compare", "-q", "-f", "raw", "-F", "raw", c.raw, out]);
    const want = statSync(c.raw).blocks * 512;
    if (allocated > want)
      throw new Error(`our output takes ${fmtBytes(allocated)} on disk, the data ${fmtBytes(want)}`);
  } else if (allocated !== 0) {
    // An empty disk: a file of the right length with no block allocated reads as zeros throughout.
    throw new Error(`our output of an empty disk takes ${fmtBytes(allocated)} on disk`);
  }
  return allocated;
}

export function toRawRow({ id, title, input, ...rest }) {
  return {
    id,
    title,
    async setup(inputs) {
      return { ...(await input(inputs)), dir: inputs.dir };
    },
    async verify(c) {
      const out = freshPath(c.dir, `${id}-verify`, "raw");
      try {
        timeProcess(vhdx("convert", c.path, out, "--format", "raw"));
        c.allocated = checkRawOutput(c, out);
      } finally {
        rmSync(out, { force: true });
      }
    },
    beforeEach: (c, side) => (c.out = freshPath(c.dir, `${id}-${side}`, "raw")),
    ours: (c) => vhdx("convert", c.path, c.out, "--format", "raw"),
    theirs: (c) => ({ cmd: "qemu-img", args: ["convert", "-f", "vhdx", "-O", "raw", c.path, c.out] }),
    afterEach: (c) => rmSync(c.out, { force: true }),
    note: (c) => `output sparse: ${fmtBytes(c.allocated ?? 0)} allocated of ${fmtBytes(c.virtualSize)}`,
    budget: { maxRatio: 1.0, text: "ours ≤ QEMU" },
    ...rest,
  };
}

export default toRawRow({
  id: "convert-vhdx-raw-1g",
  title: "convert dynamic VHDX → raw, 1 GiB, half the 32 MiB blocks written",
  input: (inputs) => inputs.dynamic1GiBHalf32M(),
});
