/**
 * `vhdx resize` against QEMU: images qemu-img made, resized by the CLI, pass `qemu-img check`,
 * `qemu-img info` reports the new size, and `qemu-img compare` with the raw disk from before finds
 * the bytes below the old end unchanged and everything past it zero. Killed (SIGKILL, the shared
 * LD_PRELOAD shim) before its positional writes (killPoints; VHDX_FULL_CRASH=1: every one), the image is the old one or the resized
 * one, and qemu-img checks it clean.
 */
import { copyFileSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { crashShimUnavailable, killPoints, runKilledAt, traceWrites } from "../helpers/crash";
import { hasTool, qemuCheck, qemuInfo, qemuToRaw, run, runOk, tempDir } from "./helpers";

const MiB = 1024 * 1024;
const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");

/**
 * Empty when QEMU reads the image as `raw` (the disk before) up to the raw's end and zeros past it,
 * else what differs. A small image is compared whole (qemu-img compare: a larger image must read as
 * zeros past the smaller one's end); a 130 GiB one, which QEMU's VHDX driver would read in full,
 * by its first bytes (qemu-img dd) and zero reads just past the old end, in the middle and at the end.
 */
function qemuDiffers(raw: string, img: string, scratch: string, size = qemuInfo(img)["virtual-size"]): string {
  const old = statSync(raw).size;
  if (size <= 64 * MiB) {
    const r = run("qemu-img", ["compare", "-f", "raw", "-F", "vhdx", raw, img]);
    return r.status === 0 ? "" : r.stdout + r.stderr;
  }
  runOk("qemu-img", ["dd", "-f", "vhdx", "-O", "raw", `bs=${MiB}`, `count=${old / MiB}`, `if=${img}`, `of=${scratch}`]);
  if (!readFileSync(scratch).equals(readFileSync(raw))) return "the bytes before the old end changed";
  const mid = Math.floor(size / 2 / MiB) * MiB;
  const reads = [`read -P 0 ${old} 8M`, `read -P 0 ${mid} 8M`, `read -P 0 ${size - 8 * MiB} 8M`];
  const r = run("qemu-io", ["-f", "vhdx", "-r", ...reads.flatMap((c) => ["-c", c]), img]);
  return r.status === 0 && !/Pattern verification failed/.test(r.stdout + r.stderr) ? "" : r.stdout + r.stderr;
}

function qemuImage(path: string, subformat: "fixed" | "dynamic", size: string): void {
  runOk("qemu-img", ["create", "-f", "vhdx", "-o", `subformat=${subformat},block_size=1M,log_size=1M`, path, size]);
  runOk("qemu-io", ["-f", "vhdx", "-c", "write -P 0x5a 0 1536K", "-c", "write -P 0x33 3M 512K", path]);
}

describe.skipIf(!hasTool("qemu-img"))("vhdx resize, read back by qemu-img", () => {
  for (const c of [
    { subformat: "dynamic", from: "4M", to: "130G", bytes: 130 * 1024 ** 3 },
    { subformat: "fixed", from: "4M", to: "9M", bytes: 9 * 1024 ** 2 },
  ] as const) {
    it(`${c.subformat} ${c.from} -> ${c.to}: checks clean, the new size, the old bytes, zeros after`, () => {
      const tmp = tempDir("vhdx-resize-qemu-");
      try {
        const img = tmp.path("img.vhdx");
        qemuImage(img, c.subformat, c.from);
        qemuToRaw(img, tmp.path("before.raw"));
        runOk(process.execPath, [VHDX, "resize", img, "--size", c.to]);
        const check = qemuCheck(img);
        expect(check.status, check.out).toBe(0);
        expect(qemuInfo(img)["virtual-size"]).toBe(c.bytes);
        expect(qemuDiffers(tmp.path("before.raw"), img, tmp.path("dd.raw"))).toBe("");
      } finally {
        tmp.cleanup();
      }
    });
  }

  it("a shrink over data is refused with its offset; --force drops it and qemu reads the rest", () => {
    const tmp = tempDir("vhdx-resize-qemu-");
    try {
      const img = tmp.path("img.vhdx");
      qemuImage(img, "dynamic", "4M");
      const refused = run(process.execPath, [VHDX, "resize", img, "--size", "2M"]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/holds data at 0x30_0000, past the new end 0x20_0000/);
      runOk(process.execPath, [VHDX, "resize", img, "--size", "2M", "--force"]);
      expect(qemuCheck(img).status).toBe(0);
      expect(qemuInfo(img)["virtual-size"]).toBe(2 * 1024 ** 2);
      runOk("qemu-io", ["-f", "vhdx", "-c", "read -P 0x5a 0 1536K", "-c", "read -P 0 1536K 512K", img]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe.skipIf(crashShimUnavailable() !== undefined || !hasTool("qemu-img"))(
  "vhdx resize killed at its kill points (test/helpers/crash.ts killPoints)",
  () => {
    for (const c of [
      { subformat: "dynamic", to: "130G" },
      { subformat: "fixed", to: "7M" },
    ] as const) {
      it(`${c.subformat} -> ${c.to}: the old image or the resized one, qemu-img check clean`, () => {
        const tmp = tempDir("vhdx-resize-kill-");
        try {
          const orig = tmp.path("orig.vhdx");
          qemuImage(orig, c.subformat, "4M");
          qemuToRaw(orig, tmp.path("before.raw"));
          const img = tmp.path("img.vhdx");
          const args = [VHDX, "resize", img, "--size", c.to];
          copyFileSync(orig, img);
          const { count, result, writes } = traceWrites(process.execPath, args);
          expect(result.exitCode).toBe(0);
          const sizes = new Set<number>();
          for (const n of killPoints(writes)) {
            copyFileSync(orig, img);
            expect(runKilledAt(process.execPath, args, n).killed).toBe(true);
            // Opened read-write, QEMU replays a log entry left behind itself (§2.3.3), then checks.
            const check = run("qemu-img", ["check", "-r", "leaks", "-f", "vhdx", img]);
            if (check.status !== 0)
              throw new Error(`killed before write ${n} of ${count}: ${check.stdout}${check.stderr}`);
            const size = qemuInfo(img)["virtual-size"];
            sizes.add(size);
            const differs = qemuDiffers(tmp.path("before.raw"), img, tmp.path("dd.raw"), size);
            if (differs) throw new Error(`killed before write ${n} of ${count}: ${differs}`);
          }
          expect(sizes.size).toBe(2);
        } finally {
          tmp.cleanup();
        }
      });
    }
  },
);
