/**
 * `vhdx convert` between VHD and VHDX, checked by QEMU: a qemu-made dynamic VHD becomes a VHDX
 * that `qemu-img compare` finds identical and `qemu-img check` finds clean; a hand-built
 * differencing chain is flattened; a qemu-made VHDX becomes dynamic and fixed VHDs that QEMU,
 * vhdiinfo and img_cat read as the same disk; a disk past 2040 GiB is refused, leaving no file.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildDynamicVhd, writeVhd } from "../helpers/buildVhd";
import { createQemuImage, qemuConvertToRaw, qemuIoWrite } from "../helpers/qemu";
import { patternBytes } from "../helpers/random";
import { runOk } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { missingTools, requireTool } from "../helpers/tools";
import { vhdiinfo } from "../helpers/vhdi";
import { imgCatVhd, qemuIoWriteVpc, qemuVhd, qemuVpcInfo, qemuVpcToRaw } from "../helpers/vhd";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;
const tmp = useTempDir("vhd-convert-");

function vhdx(args: string[]) {
  const r = spawnSync(process.execPath, [VHDX, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function compare(aFmt: string, a: string, bFmt: string, b: string) {
  return spawnSync(requireTool("qemu-img"), ["compare", "-f", aFmt, "-F", bFmt, a, b], { encoding: "utf8" });
}

describe.skipIf(missingTools("qemu-img", "qemu-io", "vhdiinfo", "img_cat"))("vhdx convert with VHDs", () => {
  it("dynamic VHD → VHDX: identical to QEMU, clean to qemu-img check", () => {
    const vhd = qemuVhd(tmp.path("in.vhd"), 9 * MiB, "dynamic");
    qemuIoWriteVpc(vhd, [
      { offset: 4096, length: 70000, seed: 1 },
      { offset: 5 * MiB, length: MiB, seed: 2 },
    ]);
    const out = tmp.path("out.vhdx");
    const r = vhdx(["convert", vhd, out]);
    expect(r.status, r.stderr).toBe(0);
    expect(compare("vpc", vhd, "vhdx", out).stdout).toContain("identical");
    expect(runOk(requireTool("qemu-img"), ["check", "-f", "vhdx", out]).stdout).toMatch(/No errors/);
  });

  it("a differencing VHD chain is flattened into one VHDX", () => {
    const bs = 512 * 1024;
    const parentData = patternBytes(3, bs);
    const childData = patternBytes(4, bs);
    const pid = "12345678-1234-1234-1234-123456789abc";
    writeVhd(
      tmp.path("base.vhd"),
      buildDynamicVhd({
        size: 2 * MiB,
        blockSize: bs,
        uniqueId: pid,
        blocks: [{ block: 2, present: () => true, data: parentData }],
      }),
    );
    writeVhd(
      tmp.path("child.vhd"),
      buildDynamicVhd({
        size: 2 * MiB,
        blockSize: bs,
        uniqueId: "87654321-1234-1234-1234-123456789abc",
        parent: { uniqueId: pid, timeStamp: 0, name: "base.vhd", locators: [{ code: "W2ru", path: ".\\base.vhd" }] },
        blocks: [{ block: 2, present: (s) => s < 100, data: childData }],
      }),
    );
    const out = tmp.path("flat.vhdx");
    const r = vhdx(["convert", tmp.path("child.vhd"), out]);
    expect(r.status, r.stderr).toBe(0);
    const raw = qemuConvertToRaw(out);
    const want = Buffer.concat([childData.subarray(0, 100 * 512), parentData.subarray(100 * 512)]);
    expect(raw.subarray(2 * bs, 3 * bs).equals(want)).toBe(true);
    expect(raw.subarray(0, 2 * bs).every((b) => b === 0)).toBe(true);
  });

  it("VHDX → VHD, dynamic and fixed: the same disk to QEMU, vhdiinfo and img_cat", () => {
    // 10 MiB is no whole CHS geometry: the VHD keeps the exact size.
    const src = createQemuImage({ path: tmp.path("src.vhdx"), sizeBytes: 10 * MiB, blockSizeMiB: 1 });
    qemuIoWrite(src, [
      { offset: 0, length: 8192, seed: 5 },
      { offset: 3 * MiB - 512, length: 2 * MiB, seed: 6 },
      { offset: 10 * MiB - 4096, length: 4096, seed: 7 },
    ]);
    const raw = qemuConvertToRaw(src);
    for (const subformat of ["dynamic", "fixed"]) {
      const out = tmp.path(`out-${subformat}.vhd`);
      const r = vhdx(["convert", "--subformat", subformat, src, out]);
      expect(r.status, r.stderr).toBe(0);
      expect(compare("vpc", out, "vhdx", src).stdout).toContain("identical");
      expect(vhdiinfo(out).mediaSize).toBe(10 * MiB);
      expect(imgCatVhd(out).equals(raw)).toBe(true);
      // QEMU 7.2 sizes a fixed VHD written by Windows' tools by its file (one sector more); its first 10 MiB match.
      if (subformat === "dynamic") expect(qemuVpcInfo(out)["virtual-size"]).toBe(10 * MiB);
      expect(
        qemuVpcToRaw(out)
          .subarray(0, 10 * MiB)
          .equals(raw),
      ).toBe(true);
      const check = vhdx(["check", out]);
      expect(check.status, check.stdout).toBe(0);
    }
  });

  it("refuses a disk larger than 2040 GiB, before writing anything", () => {
    const big = createQemuImage({ path: tmp.path("big.vhdx"), sizeBytes: 2041 * 1024 * MiB });
    const out = tmp.path("big.vhd");
    const r = vhdx(["convert", big, out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/at most 2040 GiB/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp.dir).filter((n) => n.includes("big.vhd") && n !== "big.vhdx")).toEqual([]);
  });
});
