/**
 * Chains as deep as the files go: 24 differencing images over a base (Hyper-V keeps up to 50
 * checkpoints a VM), built through the engine level by level (the depth given explicitly). Every command
 * that opens a chain reads it as the model says; the flattened result is read back by qemu-img,
 * and the chain itself by libvhdi (vhdimount) where FUSE is available.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openWithParents } from "../../src/node/resolveParent";
import { closeChain } from "../../src/vhdx/chain";
import { VhdxWriter } from "../../src/vhdx/write";
import { differencingChild, dynamicImageWith, hasTool, pattern, qemuCheck, qemuToRaw, tempDir } from "./helpers";

const tmp = tempDir("vhdx-deep-");
afterAll(() => tmp.cleanup());
const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;
const SIZE = 8 * MiB;
const LEVELS = 24;

function vhdx(args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(process.execPath, [VHDX, ...args], { input, maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`vhdx ${args.join(" ")} → ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** What level `i` writes: a run crossing a block boundary somewhere new, and the first sector. */
function writesOf(i: number): [number, Uint8Array][] {
  return [
    [(i * 311 * 1024) % (SIZE - 400 * 1024), pattern(100 + i, 300 * 1024 + i)],
    [0, pattern(200 + i, 512)],
  ];
}

describe.skipIf(!hasTool("qemu-img"))("differencing chains deeper than 16", () => {
  const model = new Uint8Array(SIZE);
  const level = (i: number) => tmp.path(`d${i}.vhdx`);

  it(`cat, convert, write and merge follow a chain of ${LEVELS} differencing images`, async () => {
    model.set(await dynamicImageWith(level(0), { size: SIZE, blockSize: MiB, offset: 0, data: new Uint8Array(0) }));
    for (let i = 0; i <= LEVELS; i++) {
      if (i > 0) await differencingChild(level(i), level(i - 1), { blockSize: MiB });
      const { image, chain } = await openWithParents(level(i), { readOnly: false, maxDepth: LEVELS });
      const w = new VhdxWriter(image);
      for (const [off, data] of writesOf(i)) {
        await w.write(off, data);
        model.set(data, off);
      }
      await w.finish();
      await closeChain(chain);
    }
    const top = level(LEVELS);
    // The last level made by the command itself.
    vhdx(["create", level(LEVELS + 1), "--parent", top]);
    expect(Buffer.from(vhdx(["cat", level(LEVELS + 1)])).equals(Buffer.from(model))).toBe(true);
    expect(Buffer.from(vhdx(["cat", top])).equals(Buffer.from(model))).toBe(true);

    // Flattened by convert, then read by QEMU (which opens no differencing VHDX itself).
    vhdx(["convert", top, tmp.path("flat.vhdx")]);
    expect(qemuCheck(tmp.path("flat.vhdx")).status).toBe(0);
    qemuToRaw(tmp.path("flat.vhdx"), tmp.path("flat.raw"));
    expect(readFileSync(tmp.path("flat.raw")).equals(Buffer.from(model))).toBe(true);

    // A write on the deepest image, then a merge of it into its parent.
    const extra = pattern(999, 70_000);
    vhdx(["write", top, "--offset", String(3 * MiB - 5)], extra);
    model.set(extra, 3 * MiB - 5);
    vhdx(["merge", top]);
    expect(Buffer.from(vhdx(["cat", level(LEVELS - 1)])).equals(Buffer.from(model))).toBe(true);
    writeFileSync(tmp.path("model.raw"), model);
  });

  it.skipIf(!hasTool("vhdimount") || !hasTool("fusermount"))(
    "libvhdi (vhdimount) reads the deep chain as vhdx cat does",
    async () => {
      const top = level(LEVELS - 1);
      const mnt = tmp.path("mnt");
      mkdirSync(mnt);
      // -v keeps vhdimount in the foreground; it serves until unmounted.
      const m = spawn("vhdimount", ["-v", top, mnt], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      m.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      try {
        // vhdimount numbers the chain from the base up: vhdi1 is d0, the image asked for comes last.
        const disk = `${mnt}/vhdi${LEVELS}`;
        const deadline = Date.now() + 20_000;
        while (spawnSync("test", ["-s", disk]).status !== 0) {
          if (m.exitCode !== null || Date.now() > deadline) throw new Error(`vhdimount did not mount: ${err}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(readFileSync(disk).equals(readFileSync(tmp.path("model.raw")))).toBe(true);
        expect(Buffer.from(vhdx(["cat", top])).equals(readFileSync(disk))).toBe(true);
      } finally {
        spawnSync("fusermount", ["-u", mnt]);
        await new Promise((r) => (m.exitCode !== null ? r(null) : m.once("exit", r)));
      }
    },
  );
});
