/**
 * A merge whose one log entry does not fit the default 1 MiB log: a child holding 270 one-byte
 * writes 16 MiB apart over a differencing parent. `vhdx merge` grows the parent's log (and says so
 * on stderr) and commits. libvhdi (vhdimount, which follows the whole chain) is the peer: the bytes
 * it reads through the child before the merge equal those it reads through the merged parent after.
 * (qemu-img opens no differencing VHDX, so it cannot read either chain.)
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openWithParents } from "../../src/node/resolveParent";
import { closeChain } from "../../src/vhdx/chain";
import { VhdxWriter } from "../../src/vhdx/write";
import { missingTools } from "../helpers/tools";
import { runOk, tempDir } from "./helpers";

const MiB = 1024 * 1024;
const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const WRITES = 270;
const STEP = 16 * MiB;
const WINDOW = 4096;

async function writeBytes(path: string, writes: { offset: number; value: number }[]): Promise<void> {
  const { image, chain } = await openWithParents(path, { readOnly: false });
  try {
    const w = new VhdxWriter(image);
    for (const x of writes) await w.write(x.offset, Uint8Array.of(x.value));
    await w.finish();
  } finally {
    await closeChain(chain);
  }
}

/** libvhdi's reading of `image` (with its parents) at each window: vhdimount, the image's own layer. */
function vhdiWindows(image: string, mnt: string, offsets: number[]): Buffer[] {
  mkdirSync(mnt, { recursive: true });
  runOk("vhdimount", [image, mnt]);
  try {
    // vhdi1 is the chain's root; the highest number is the image itself.
    const layers = readdirSync(mnt).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
    const fd = openSync(join(mnt, layers[layers.length - 1]), "r");
    try {
      return offsets.map((o) => {
        const b = Buffer.alloc(WINDOW);
        readSync(fd, b, 0, WINDOW, o);
        return b;
      });
    } finally {
      closeSync(fd);
    }
  } finally {
    spawnSync("fusermount", ["-u", mnt]);
  }
}

describe.skipIf(missingTools("vhdimount", "fusermount"))("merging more than one log entry's worth", () => {
  it("grows the parent's 1 MiB log, commits, and libvhdi reads the same bytes before and after", async () => {
    const tmp = tempDir("vhdx-mergelog-");
    try {
      const [base, parent, child] = ["base.vhdx", "parent.vhdx", "child.vhdx"].map((n) => tmp.path(n));
      // Each image is written before its child is made (a child names its parent's DataWriteGuid).
      runOk(process.execPath, [VHDX, "create", base, "--size", "5G"]);
      await writeBytes(base, [{ offset: 3 * STEP + 100, value: 0xb1 }]);
      runOk(process.execPath, [VHDX, "create", parent, "--parent", base]);
      await writeBytes(parent, [{ offset: 7 * STEP + 5, value: 0x9a }]);
      runOk(process.execPath, [VHDX, "create", child, "--parent", parent]);
      const childWrites = Array.from({ length: WRITES }, (_, i) => ({ offset: i * STEP + 5, value: (i % 255) + 1 }));
      await writeBytes(child, childWrites);
      const offsets = childWrites.map((x) => x.offset - 5);

      const before = vhdiWindows(child, tmp.path("mnt1"), offsets);
      // The model: every window holds its child byte; window 3 also the base's byte (the child writes elsewhere).
      expect(before[3][100]).toBe(0xb1);
      childWrites.forEach((x, i) => expect(before[i][5]).toBe(x.value));

      const r = spawnSync(process.execPath, [VHDX, "merge", child], { encoding: "utf8" });
      expect(r.stderr).toMatch(/the log was grown from 1 MiB to \d+ MiB.*merging the child into its parent/);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/merged/);
      expect(runOk(process.execPath, [VHDX, "info", parent])).toMatch(/log\s+[2-9] MiB/);
      expect(runOk(process.execPath, [VHDX, "check", parent])).toMatch(/ok/);

      const after = vhdiWindows(parent, tmp.path("mnt2"), offsets);
      after.forEach((b, i) => {
        if (!b.equals(before[i])) throw new Error(`window at ${offsets[i]} differs after the merge`);
      });
    } finally {
      tmp.cleanup();
    }
  });
});
