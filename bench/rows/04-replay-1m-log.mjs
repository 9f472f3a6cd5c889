// Log replay (issue 3): `vhdx replay` against `qemu-img check -r all` on the same dirty image, a
// 1 GiB dynamic image whose 1 MiB log is nearly full (254 of 256 sectors: two entries of one active
// sequence, 252 data sectors; built by bench/inproc.ts). Every run starts from a fresh copy of the
// dirty file, made untimed. Budget: at least as fast as QEMU.
import { copyFileSync, openSync, readSync, closeSync, rmSync, statSync } from "node:fs";
import { inproc, run, timeProcess, vhdx, MiB } from "../lib.mjs";

function readAll(path) {
  const size = statSync(path).size;
  const buf = Buffer.alloc(size);
  const fd = openSync(path, "r");
  try {
    for (let at = 0; at < size;) at += readSync(fd, buf, at, size - at, at);
  } finally {
    closeSync(fd);
  }
  return buf;
}

export default {
  id: "replay-1m-log",
  title: "replay a nearly full 1 MiB log",
  async setup(inputs) {
    const img = await inputs.dynamic1GiBHalf();
    const c = {
      dirty: inputs.path("replay-dirty.vhdx"),
      ours: inputs.path("replay-ours.vhdx"),
      theirs: inputs.path("replay-qemu.vhdx"),
    };
    c.log = inproc("dirty-log", img.path, c.dirty);
    return c;
  },
  // Both replays must leave the same file past the headers (same data sectors in the same places;
  // ours also grows the file to the entry's LastFileOffset as §2.3.3 asks, with zeros), and the
  // result must be clean for QEMU.
  async verify(c) {
    copyFileSync(c.dirty, c.ours);
    copyFileSync(c.dirty, c.theirs);
    timeProcess(vhdx("replay", c.ours));
    run("qemu-img", ["check", "-q", "-r", "all", c.theirs]);
    run("qemu-img", ["check", "-q", c.ours]);
    const a = readAll(c.ours);
    const b = readAll(c.theirs);
    const common = Math.min(a.length, b.length);
    if (!a.subarray(MiB, common).equals(b.subarray(MiB, common)))
      throw new Error("our replay left different bytes from QEMU's");
    if (a.subarray(common).some((x) => x !== 0) || b.subarray(common).some((x) => x !== 0))
      throw new Error("a replay left non-zero bytes past the other's end of file");
  },
  beforeEach: (c, side) => copyFileSync(c.dirty, side === "ours" ? c.ours : c.theirs),
  ours: (c) => vhdx("replay", c.ours),
  theirs: (c) => ({ cmd: "qemu-img", args: ["check", "-q", "-r", "all", c.theirs] }),
  afterEach: (c) => {
    rmSync(c.ours, { force: true });
    rmSync(c.theirs, { force: true });
  },
  note: (c) => `${c.log.entries} entries, ${c.log.dataSectors} data sectors, ${c.log.logBytes / 1024} KiB of log`,
  budget: { maxRatio: 1.0, text: "ours ≤ QEMU" },
};
