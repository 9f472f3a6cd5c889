/**
 * The `vhdx` command as a user runs it (the bundle global-setup builds), on images QEMU made:
 * `cat` gives QEMU's bytes, `info --json` agrees with qemu-img and libvhdi, bad input is one line.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, openSync, writeSync, closeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { createQemuImage, qemuConvertToRaw, qemuInfo, qemuIoWrite } from "../helpers/qemu";
import { missingTools } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";
import { vhdiinfo } from "../helpers/vhdi";

const MiB = 1024 * 1024;
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "vhdx.cjs");

function vhdx(...args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    maxBuffer: 256 * MiB,
    env: { ...process.env, VHDX_DEBUG: "" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe.skipIf(missingTools("qemu-img", "qemu-io", "vhdiinfo"))("the vhdx command on QEMU-made images", () => {
  const tmp = useTempDir("vhdx-cli-");
  const img = tmp.path("disk.vhdx");
  const size = 30 * MiB + 1536;
  let raw: Buffer;

  beforeAll(() => {
    createQemuImage({ path: img, sizeBytes: size, subformat: "dynamic", blockSizeMiB: 2, logSizeMiB: 1 });
    qemuIoWrite(img, [
      { offset: 3, length: 70_000, seed: 1 },
      { offset: 2 * MiB - 1000, length: 5000, seed: 2 },
      { offset: 17 * MiB + 77, length: 3 * MiB, seed: 3 },
      { offset: size - 4000, length: 4000, seed: 4 },
    ]);
    raw = qemuConvertToRaw(img);
  });

  it("cat writes the whole virtual disk, byte for byte as qemu-img convert -O raw", () => {
    const r = vhdx("cat", img);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(size);
    expect(r.stdout.equals(raw)).toBe(true);
  });

  it("cat --offset --length writes exactly that unaligned range", () => {
    for (const [off, len] of [
      [2 * MiB - 999, 4001],
      [17 * MiB, 3 * MiB + 1234],
      [size - 1, 1],
    ]) {
      const r = vhdx("cat", img, "--offset", String(off), "--length", String(len));
      expect(r.code).toBe(0);
      expect(r.stdout.equals(raw.subarray(off, off + len))).toBe(true);
    }
  });

  it("info --json agrees with qemu-img info and vhdiinfo", () => {
    const r = vhdx("info", img, "--json");
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout.toString()) as {
      diskType: string;
      virtualSize: number;
      blockSize: number;
      logicalSectorSize: number;
      headers: { current: boolean; valid: boolean }[];
      regions: { name: string }[];
      bat: { payload: Record<string, number> };
    };
    const v = vhdiinfo(img);
    const q = qemuInfo(img);
    expect(info.diskType).toBe(v.diskType);
    expect(info.virtualSize).toBe(v.mediaSize);
    expect(info.virtualSize).toBe(q["virtual-size"]);
    expect(info.blockSize).toBe(q["cluster-size"]);
    expect(info.logicalSectorSize).toBe(v.bytesPerSector);
    expect(info.headers).toHaveLength(2);
    expect(info.headers.filter((h) => h.current)).toHaveLength(1);
    // Every payload block is counted in exactly one state.
    const blocks = Math.ceil(size / (2 * MiB));
    expect(Object.values(info.bat.payload).reduce((a, b) => a + b, 0)).toBe(blocks);
  });

  it("a file with both headers damaged exits 1 with one line naming the file, the structure and the offset", () => {
    const bad = tmp.path("bad.vhdx");
    copyFileSync(img, bad);
    const fd = openSync(bad, "r+");
    writeSync(fd, Buffer.alloc(128 * 1024, 0xee), 0, 128 * 1024, 64 * 1024); // §2.2.2: both header slots
    closeSync(fd);
    const r = vhdx("info", bad);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^vhdx: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: .+ \\(.+ at offset 0x[0-9a-f_]+\\)$`),
    );
  });

  it("usage errors exit 2", () => {
    expect(vhdx("cat").code).toBe(2);
    expect(vhdx("info", img, "--no-such-flag").code).toBe(2);
  });
});
