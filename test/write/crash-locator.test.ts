/**
 * A stale parent locator rewritten by `vhdx write` (§2.6.2.6.3), with real processes: the command
 * is killed (SIGKILL, the shared LD_PRELOAD shim) right before its positional writes (killPoints;
 * VHDX_FULL_CRASH=1: every one) in
 * turn. Afterwards the child opens with its parent, its locator holds the old or the new path
 * (never a mix: the rewrite is one log entry), its virtual disk reads as before or after the
 * write, and the new data never shows without the new locator (the rewrite commits first).
 */
import { describe, expect, it } from "vitest";
import { copyFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openWithParents, parentLocatorPaths } from "../../src/node/resolveParent";
import { closeChain } from "../../src/vhdx/chain";
import { locatorValue } from "../../src/vhdx/parentLocator";
import { MiB } from "../../src/vhdx/bytes";
import { crashShimUnavailable, killPoints, runKilledAt, traceWrites } from "../helpers/crash";
import { differencingChild, dynamicImageWith, pattern, tempDir } from "./helpers";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const SIZE = 8 * MiB;

describe.skipIf(crashShimUnavailable() !== undefined)(
  "vhdx write rewriting a stale locator, killed at its kill points",
  () => {
    it("leaves the old or the new locator, and the before or after disk, never the data without the locator", async () => {
      const tmp = tempDir("vhdx-killat-locator-");
      try {
        const base = tmp.path("base.vhdx");
        const orig = tmp.path("child.orig");
        const img = tmp.path("child.vhdx");
        const stale = parentLocatorPaths(img, tmp.path("moved-away/base.vhdx")).absoluteWin32Path;
        const before = await dynamicImageWith(base, {
          size: SIZE,
          blockSize: MiB,
          offset: 0,
          data: pattern(7, 2 * MiB),
        });
        await differencingChild(orig, base, { blockSize: MiB, relativePath: "base.vhdx", absoluteWin32Path: stale });
        const fresh = parentLocatorPaths(img, base).absoluteWin32Path;
        const data = pattern(8, 3000);
        const offset = MiB + 700;
        writeFileSync(tmp.path("patch.bin"), data);
        const after = before.slice();
        after.set(data, offset);
        const args = [VHDX, "write", img, "--offset", String(offset), "--input", tmp.path("patch.bin")];
        copyFileSync(orig, img);
        const { count, result, writes } = traceWrites(process.execPath, args);
        expect(result.exitCode).toBe(0);
        expect(result.stderr).toContain(`absolute_win32_path updated from "${stale}" to "${fresh}"`);
        const seen = { oldLocator: 0, newLocator: 0, before: 0, after: 0 };
        for (const n of killPoints(writes)) {
          copyFileSync(orig, img);
          expect(runKilledAt(process.execPath, args, n).killed).toBe(true);
          // Read-only: the log is replayed in memory, and nothing is rewritten by this look.
          const { image, chain } = await openWithParents(img);
          const abs = locatorValue(image.params.parentLocator!, "absolute_win32_path");
          const bytes = Buffer.from(await image.read(0, SIZE));
          await closeChain(chain);
          const where = `killed before write ${n} of ${count}`;
          if (abs !== stale && abs !== fresh) throw new Error(`${where}: absolute_win32_path is ${abs}`);
          const isBefore = bytes.equals(Buffer.from(before));
          if (!isBefore && !bytes.equals(Buffer.from(after))) throw new Error(`${where}: neither before nor after`);
          if (!isBefore && abs !== fresh) throw new Error(`${where}: the new data shows with the stale locator`);
          seen[abs === fresh ? "newLocator" : "oldLocator"]++;
          seen[isBefore ? "before" : "after"]++;
        }
        console.log(
          `vhdx write with a locator rewrite killed at ${killPoints(writes).length} of its ${count} positional writes: ` +
            `${seen.oldLocator} old / ${seen.newLocator} new locators, ${seen.before} before / ${seen.after} after disks`,
        );
        expect(seen.oldLocator).toBeGreaterThan(0);
        expect(seen.newLocator).toBeGreaterThan(0);
        expect(seen.after).toBeGreaterThan(0);
      } finally {
        tmp.cleanup();
      }
    });
  },
);
