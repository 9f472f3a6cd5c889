// Log replay (issue 3): `vhdx replay` against `qemu-img check -r all` on the same dirty image, whose
// 1 MiB log is full (two entries, 252 data sectors). Each run gets a fresh copy (untimed).
// Budget: at least as fast as QEMU.
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { ROOT, run, timeProcess, vhdx } from "../lib.mjs";

function sameAfterHeaders(a, b) {
  // The headers differ by design (fresh GUIDs, sequence numbers); everything from the region tables on must match.
  return Buffer.compare(readFileSync(a).subarray(192 * 1024), readFileSync(b).subarray(192 * 1024)) === 0;
}

export default {
  id: "replay-1m-log",
  title: "replay, full 1 MiB log",
  async setup(inputs) {
    const dirty = await inputs.get("dirty-1m-log.vhdx", async (path) => {
      run("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", path, "512G"]);
      const maker = inputs.path("dirtyLog.mjs");
      await build({
        entryPoints: [join(ROOT, "bench", "dirtyLog.ts")],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: maker,
        logLevel: "warning",
      });
      run(process.execPath, [maker, path]);
      return path;
    });
    const ctx = { dirty, ours: inputs.path("replay-ours.vhdx"), theirs: inputs.path("replay-qemu.vhdx") };
    copyFileSync(dirty, ctx.ours);
    copyFileSync(dirty, ctx.theirs);
    return ctx;
  },
  // Both replays must leave the same bytes, and QEMU must find our result clean.
  verify(ctx) {
    timeProcess(vhdx("replay", ctx.ours));
    run("qemu-img", ["check", "-r", "all", ctx.theirs]);
    if (!sameAfterHeaders(ctx.ours, ctx.theirs))
      throw new Error("vhdx replay and qemu-img check -r all left different bytes");
    run("qemu-img", ["check", ctx.ours]);
    copyFileSync(ctx.dirty, ctx.ours);
    copyFileSync(ctx.dirty, ctx.theirs);
  },
  ours: (ctx) => vhdx("replay", ctx.ours),
  theirs: (ctx) => ({ cmd: "qemu-img", args: ["check", "-r", "all", ctx.theirs] }),
  afterEach: (ctx) => {
    copyFileSync(ctx.dirty, ctx.ours);
    copyFileSync(ctx.dirty, ctx.theirs);
  },
  budget: { maxRatio: 1.0, text: "ours ≤ QEMU" },
};
