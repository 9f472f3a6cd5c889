/**
 * `vhdx log`, `vhdx replay`, and read-only viewing of dirty images, against QEMU's own recovery:
 * qemu-io is killed right before its positional writes in turn (the kill points of
 * test/helpers/crash.ts killPoints: every step of QEMU's write protocol, early and late;
 * VHDX_FULL_CRASH=1 kills before every write); for every image left
 * behind, `vhdx cat` (read-only, replayed in memory) and `vhdx replay` + `vhdx cat` give the same
 * virtual disk as `qemu-img check -r all` + `qemu-img convert -O raw`, and viewing never changes
 * the file.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { crashShimUnavailable, killPoints, runKilledAt, traceWrites } from "../helpers/crash";
import { createQemuImage, qemuCheck, qemuConvertToRaw } from "../helpers/qemu";
import { missingTools } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

const MiB = 1024 * 1024;
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "vhdx.cjs");

function vhdx(...args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    maxBuffer: 256 * MiB,
    env: { ...process.env, VHDX_DEBUG: "" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

const WORKLOAD = [
  "-c",
  "write -P 0x11 0 64k",
  "-c",
  "write -P 0x22 5M 8k",
  "-c",
  "write -P 0x33 9M 1M",
  "-c",
  "write -P 0x44 0 4k",
];

describe.skipIf(missingTools("qemu-img", "qemu-io") || crashShimUnavailable())(
  "dirty images left by a killed qemu-io",
  () => {
    const tmp = useTempDir("vhdx-logcli-");

    it("read-only viewing and in-place replay both give QEMU's recovered bytes at every kill point", () => {
      const base = tmp.path("base.vhdx");
      createQemuImage({
        path: base,
        sizeBytes: 16 * MiB,
        subformat: "dynamic",
        blockSizeMiB: 1,
        logSizeMiB: 1,
        blockStateZero: true,
      });
      const work = tmp.path("count.vhdx");
      copyFileSync(base, work);
      const { count, writes } = traceWrites("qemu-io", [...WORKLOAD, work]);
      expect(count).toBeGreaterThan(5);
      let dirty = 0;
      for (const n of killPoints(writes)) {
        const img = tmp.path(`k${n}.vhdx`);
        copyFileSync(base, img);
        const r = runKilledAt("qemu-io", [...WORKLOAD, img], n);
        expect(r.killed).toBe(true);
        const theirs = tmp.path(`q${n}.vhdx`);
        copyFileSync(img, theirs);
        qemuCheck(theirs, true);
        const expected = qemuConvertToRaw(theirs);

        const before = sha(img);
        const log = vhdx("log", "--json", img);
        expect(log.code, log.stderr).toBe(0);
        const report = JSON.parse(log.stdout.toString());
        if (report.needsReplay) dirty++;
        const view = vhdx("cat", img);
        expect(view.code, view.stderr).toBe(0);
        expect(Buffer.compare(view.stdout, expected), `kill point ${n}: read-only view`).toBe(0);
        expect(sha(img), `kill point ${n}: viewing changed the file`).toBe(before);

        const replay = vhdx("replay", img);
        expect(replay.code, replay.stderr).toBe(0);
        const after = vhdx("cat", img);
        expect(Buffer.compare(after.stdout, expected), `kill point ${n}: after replay`).toBe(0);
        expect(qemuCheck(img).exitCode, `kill point ${n}: qemu-img check after our replay`).toBe(0);
        const relog = JSON.parse(vhdx("log", "--json", img).stdout.toString());
        expect(relog.empty).toBe(true);
      }
      // The workload must actually leave logs behind at some kill points, or this test proves nothing.
      expect(dirty).toBeGreaterThan(0);
    });
  },
);
