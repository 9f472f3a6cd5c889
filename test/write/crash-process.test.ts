/**
 * The same promise with real processes: `vhdx write` is killed (SIGKILL, via the shared
 * LD_PRELOAD shim) right before its positional writes in turn (test/helpers/crash.ts killPoints;
 * VHDX_FULL_CRASH=1: every one). Afterwards the image
 * opens (the log is replayed), reads as exactly the before or the after state, and
 * `qemu-img check` finds no errors.
 */
import { describe, expect, it } from "vitest";
import { copyFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openImage } from "../../src/vhdx/image";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openWithParents } from "../../src/node/resolveParent";
import { closeChain } from "../../src/vhdx/chain";
import { MiB } from "../../src/vhdx/bytes";
import { crashShimUnavailable, killPoints, runKilledAt, traceWrites } from "../helpers/crash";
import { differencingChild, dynamicImageWith, hasTool, pattern, qemuCheck, tempDir } from "./helpers";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const SIZE = 16 * MiB;

describe.skipIf(crashShimUnavailable() !== undefined || !hasTool("qemu-img"))(
  "vhdx write killed at its kill points (test/helpers/crash.ts killPoints)",
  () => {
    it("leaves an image that opens, reads before-or-after and checks clean", async () => {
      const tmp = tempDir("vhdx-killat-");
      try {
        const orig = tmp.path("orig.vhdx");
        const before = await dynamicImageWith(orig, {
          size: SIZE,
          blockSize: MiB,
          offset: 0,
          data: pattern(1, 3 * MiB),
        });
        // A patch over a present block and a new one.
        const data = pattern(2, 300_000);
        const offset = 3 * MiB - 100_000;
        writeFileSync(tmp.path("patch.bin"), data);
        const after = before.slice();
        after.set(data, offset);
        const img = tmp.path("img.vhdx");
        const args = [VHDX, "write", img, "--offset", String(offset), "--input", tmp.path("patch.bin")];
        copyFileSync(orig, img);
        const { count, result, writes } = traceWrites(process.execPath, args);
        expect(result.exitCode).toBe(0);
        expect(count).toBeGreaterThan(5);
        let befores = 0;
        let afters = 0;
        for (const n of killPoints(writes)) {
          copyFileSync(orig, img);
          const r = runKilledAt(process.execPath, args, n);
          expect(r.killed).toBe(true);
          const file = await NodeFileBackend.open(img, { readOnly: false });
          const reopened = await openImage(file, { readOnly: false }); // replays the log in place
          const bytes = Buffer.from(await reopened.read(0, SIZE));
          await reopened.close();
          const isBefore = bytes.equals(Buffer.from(before));
          const isAfter = bytes.equals(Buffer.from(after));
          if (!isBefore && !isAfter) throw new Error(`killed before write ${n} of ${count}: neither before nor after`);
          if (isAfter) afters++;
          else befores++;
          const check = qemuCheck(img);
          if (check.status !== 0) throw new Error(`killed before write ${n}: qemu-img check: ${check.out}`);
        }
        console.log(
          `vhdx write killed at ${killPoints(writes).length} of its ${count} positional writes: ${befores} before-states, ${afters} after-states`,
        );
        expect(befores).toBeGreaterThan(0);
        expect(afters).toBeGreaterThan(0);
      } finally {
        tmp.cleanup();
      }
    });
  },
);

describe.skipIf(crashShimUnavailable() !== undefined)(
  "vhdx write on a differencing child, killed at its kill points (test/helpers/crash.ts killPoints)",
  () => {
    it("reads before-or-after with its parent, through the sector bitmap path", async () => {
      const tmp = tempDir("vhdx-killat-diff-");
      try {
        const base = tmp.path("base.vhdx");
        const orig = tmp.path("child.orig");
        const before = await dynamicImageWith(base, {
          size: SIZE,
          blockSize: MiB,
          offset: 0,
          data: pattern(5, 4 * MiB),
        });
        await differencingChild(orig, base, { blockSize: MiB, relativePath: "base.vhdx" });
        const data = pattern(6, 5000);
        const offset = MiB + 300;
        writeFileSync(tmp.path("patch.bin"), data);
        const after = before.slice();
        after.set(data, offset);
        const img = tmp.path("child.vhdx");
        const args = [VHDX, "write", img, "--offset", String(offset), "--input", tmp.path("patch.bin")];
        copyFileSync(orig, img);
        const { count, writes } = traceWrites(process.execPath, args);
        let befores = 0;
        let afters = 0;
        for (const n of killPoints(writes)) {
          copyFileSync(orig, img);
          expect(runKilledAt(process.execPath, args, n).killed).toBe(true);
          const { image, chain } = await openWithParents(img, { readOnly: false });
          const bytes = Buffer.from(await image.read(0, SIZE));
          await closeChain(chain);
          const isBefore = bytes.equals(Buffer.from(before));
          if (!isBefore && !bytes.equals(Buffer.from(after)))
            throw new Error(`killed before write ${n} of ${count}: neither before nor after`);
          if (isBefore) befores++;
          else afters++;
        }
        console.log(
          `vhdx write on a differencing child killed at ${killPoints(writes).length} of its ${count} positional writes: ${befores} before-states, ${afters} after-states`,
        );
        expect(befores).toBeGreaterThan(0);
        expect(afters).toBeGreaterThan(0);
      } finally {
        tmp.cleanup();
      }
    });
  },
);

describe.skipIf(crashShimUnavailable() !== undefined || !hasTool("qemu-img"))(
  "vhdx write from stdin, streamed over several blocks, killed at its kill points (test/helpers/crash.ts killPoints)",
  () => {
    it("reads all-old or all-new after each kill, and checks clean", async () => {
      const tmp = tempDir("vhdx-killat-stdin-");
      try {
        const orig = tmp.path("orig.vhdx");
        const before = await dynamicImageWith(orig, {
          size: SIZE,
          blockSize: MiB,
          offset: MiB,
          data: pattern(8, 2 * MiB),
        });
        // Unaligned at both ends: new block 0, present blocks 1 and 2, new blocks 3…5.
        const data = pattern(9, 5 * MiB + 1001);
        const offset = 777;
        writeFileSync(tmp.path("in.bin"), data);
        const after = before.slice();
        after.set(data, offset);
        const img = tmp.path("img.vhdx");
        const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
        const args = [
          "-c",
          `exec ${q(process.execPath)} ${q(VHDX)} write ${q(img)} --offset ${offset} < ${q(tmp.path("in.bin"))}`,
        ];
        copyFileSync(orig, img);
        const { count, result, writes } = traceWrites("sh", args);
        expect(result.exitCode, result.stderr).toBe(0);
        let befores = 0;
        let afters = 0;
        for (const n of killPoints(writes)) {
          copyFileSync(orig, img);
          expect(runKilledAt("sh", args, n).killed).toBe(true);
          const reopened = await openImage(await NodeFileBackend.open(img, { readOnly: false }), { readOnly: false });
          const bytes = Buffer.from(await reopened.read(0, SIZE));
          await reopened.close();
          const isBefore = bytes.equals(Buffer.from(before));
          if (!isBefore && !bytes.equals(Buffer.from(after)))
            throw new Error(`killed before write ${n} of ${count}: neither before nor after`);
          if (isBefore) befores++;
          else afters++;
          const check = qemuCheck(img);
          if (check.status !== 0) throw new Error(`killed before write ${n}: qemu-img check: ${check.out}`);
        }
        console.log(
          `vhdx write from stdin killed at ${killPoints(writes).length} of its ${count} positional writes: ${befores} before-states, ${afters} after-states`,
        );
        expect(befores).toBeGreaterThan(0);
        expect(afters).toBeGreaterThan(0);
      } finally {
        tmp.cleanup();
      }
    });
  },
);
