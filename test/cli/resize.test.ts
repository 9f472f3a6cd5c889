/**
 * `vhdx resize` as a command: --dry-run writes nothing; a shrink that cuts a GPT partition (made by
 * sgdisk) and the GPT's backup header warns about both and changes neither; a differencing child
 * grown past its parent reads, through `vhdx cat`, as the parent's bytes and then zeros, and our
 * checker finds it clean.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { missingTools, requireTool } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;
const tmp = useTempDir("vhdx-resize-cli-");

function vhdx(args: string[]) {
  const r = spawnSync(process.execPath, [VHDX, ...args], { encoding: "buffer", maxBuffer: 64 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function ok(args: string[]) {
  const r = vhdx(args);
  if (r.status !== 0) throw new Error(`vhdx ${args.join(" ")}: ${r.stderr}`);
  return r;
}

describe.skipIf(missingTools("sgdisk") !== undefined)("vhdx resize and what is inside the disk", () => {
  it("warns when a shrink cuts a partition and the GPT backup header; --dry-run writes nothing", () => {
    const raw = tmp.path("gpt.raw");
    writeFileSync(raw, "");
    truncateSync(raw, 8 * MiB);
    // Partition 1: sectors 2048–12287 (1 MiB to 6 MiB).
    spawnSync(requireTool("sgdisk"), ["-n", "1:2048:12287", raw], { stdio: "ignore" });
    const img = tmp.path("gpt.vhdx");
    ok(["convert", raw, img, "--block-size", "1M"]);
    const before = readFileSync(img);
    const dry = ok(["resize", img, "--size", "4M", "--dry-run"]);
    expect(dry.stdout.toString()).toMatch(/^would resize: 8 MiB -> 4 MiB/);
    expect(dry.stderr).toMatch(/warning: partition 1 \(.*\) ends at 0x000600000, past the new end 0x000400000/);
    expect(dry.stderr).toMatch(/warning: the GPT backup header ends at 0x000800000/);
    expect(readFileSync(img).equals(before)).toBe(true);
    // The GPT backup entries in the last MiB hold data: refused without --force, the first byte named.
    const refused = vhdx(["resize", img, "--size", "4M"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/holds data at 0x7f_[0-9a-f]{4}, past the new end 0x40_0000/);
    expect(readFileSync(img).equals(before)).toBe(true);
  });
});

describe("vhdx resize of a differencing child", () => {
  it("grown past its parent: the parent's bytes, then zeros; checks clean", () => {
    const base = tmp.path("base.vhdx");
    const child = tmp.path("child.vhdx");
    const data = tmp.path("data.bin");
    ok(["create", base, "--size", "2M", "--block-size", "1M"]);
    const bytes = Buffer.alloc(MiB + 512, 0x6b);
    writeFileSync(data, bytes);
    ok(["write", base, "--offset", "0", "--input", data]);
    ok(["create", child, "--type", "differencing", "--parent", base, "--block-size", "1M"]);
    ok(["resize", child, "--size", "5M"]);
    const disk = ok(["cat", child]).stdout;
    expect(disk.length).toBe(5 * MiB);
    expect(disk.subarray(0, bytes.length).equals(bytes)).toBe(true);
    expect(disk.subarray(bytes.length).every((x) => x === 0)).toBe(true);
    expect(ok(["check", child]).stdout.toString()).toMatch(/ok — 0 errors/);
  });
});
