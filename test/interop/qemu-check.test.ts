/**
 * `vhdx check` as a user runs it, on images QEMU made and on damaged copies of them: every
 * damage is found with its code and offset, nothing is written without --repair, and after
 * --repair `qemu-img check` finds the image clean.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeBatEntry } from "../../src/vhdx/bat";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { HeaderUpdater, LogWriter } from "../../src/vhdx/log";
import { createQemuImage, qemuIoWrite } from "../helpers/qemu";
import { missingTools, requireTool } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

const MiB = 1024 * 1024;
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "vhdx.cjs");

interface Json {
  ok: boolean;
  findings: { severity: string; code: string; message: string; structure: string; offset: number; length: number }[];
  repairs?: { code: string; description: string; writes: { offset: number; length: number }[] }[];
}

function vhdx(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, VHDX_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function checkJson(path: string, ...extra: string[]): { code: number | null; json: Json } {
  const r = vhdx("check", path, "--json", ...extra);
  expect(r.stderr).toBe("");
  return { code: r.code, json: JSON.parse(r.stdout) as Json };
}

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function qemuCheck(path: string): { status: number | null; out: string } {
  const r = spawnSync(requireTool("qemu-img"), ["check", "-f", "vhdx", path], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Flips one byte of a copy of `src`. */
function damaged(src: string, dst: string, at: number, xor = 0x01): string {
  copyFileSync(src, dst);
  const b = readFileSync(dst);
  b[at] ^= xor;
  writeFileSync(dst, b);
  return dst;
}

describe.skipIf(missingTools("qemu-img", "qemu-io"))("vhdx check on QEMU-made images", () => {
  const tmp = useTempDir("vhdx-check-");
  const dyn = tmp.path("dynamic.vhdx");
  const fixed = tmp.path("fixed.vhdx");

  beforeAll(() => {
    createQemuImage({ path: dyn, sizeBytes: 20 * MiB, subformat: "dynamic", blockSizeMiB: 1, logSizeMiB: 1 });
    qemuIoWrite(dyn, [
      { offset: 0, length: 70_000, seed: 1 },
      { offset: 9 * MiB + 5, length: 2 * MiB, seed: 2 },
    ]);
    createQemuImage({ path: fixed, sizeBytes: 6 * MiB, subformat: "fixed" });
  });

  it("clean images: exit 0, ok, only notes (QEMU's Required = 0)", () => {
    for (const p of [dyn, fixed]) {
      const { code, json } = checkJson(p);
      expect(code).toBe(0);
      expect(json.ok).toBe(true);
      expect(json.findings.filter((f) => f.severity !== "info")).toEqual([]);
      expect(json.findings.some((f) => f.code === "REGION_NOT_REQUIRED")).toBe(true);
      const text = vhdx("check", p);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/: ok — 0 errors, 0 warnings, \d+ notes?$/m);
    }
  });

  it("a damaged header copy: a warning (exit 0); --repair rewrites it and qemu-img check is clean", () => {
    const p = damaged(dyn, tmp.path("h.vhdx"), 64 * 1024 + 300);
    const before = sha(p);
    const { code, json } = checkJson(p);
    expect(code).toBe(0);
    expect(json.findings).toContainEqual(
      expect.objectContaining({ code: "HEADER_CHECKSUM", severity: "warning", offset: 64 * 1024 + 4 }),
    );
    expect(sha(p)).toBe(before);
    const r = checkJson(p, "--repair");
    expect(r.code).toBe(0);
    expect(r.json.repairs?.map((x) => x.code)).toEqual(["HEADER_REWRITTEN"]);
    expect(r.json.findings.filter((f) => f.severity !== "info")).toEqual([]);
    const q = qemuCheck(p);
    expect(q.out).toMatch(/No errors were found/);
    expect(q.status).toBe(0);
    // Both headers are valid again, with sequence numbers one apart.
    const b = readFileSync(p);
    const seq = (at: number) => b.readBigUInt64LE(at + 8);
    const [s1, s2] = [seq(64 * 1024), seq(128 * 1024)];
    expect(s1 > s2 ? s1 - s2 : s2 - s1).toBe(1n);
  });

  it("a damaged region table copy: exit 1; --repair rewrites it through the log; qemu-img check clean", () => {
    for (const copy of [0, 1]) {
      const at = 192 * 1024 + copy * 64 * 1024;
      const p = damaged(dyn, tmp.path(`rt${copy}.vhdx`), at + 40);
      const before = sha(p);
      const { code, json } = checkJson(p);
      expect(code).toBe(1);
      expect(json.ok).toBe(false);
      expect(json.findings).toContainEqual(
        expect.objectContaining({ code: "REGION_TABLE_CHECKSUM", severity: "error", offset: at + 4 }),
      );
      expect(sha(p)).toBe(before);
      const r = checkJson(p, "--repair");
      expect(r.code).toBe(0);
      expect(r.json.repairs?.map((x) => x.code)).toEqual(["REGION_TABLE_REWRITTEN"]);
      expect(r.json.repairs![0].writes).toContainEqual(expect.objectContaining({ offset: at, length: 64 * 1024 }));
      const b = readFileSync(p);
      expect(b.subarray(192 * 1024, 256 * 1024).equals(b.subarray(256 * 1024, 320 * 1024))).toBe(true);
      const q = qemuCheck(p);
      expect(q.out).toMatch(/No errors were found/);
      expect(q.status).toBe(0);
      expect(checkJson(p).json.findings.filter((f) => f.severity !== "info")).toEqual([]);
    }
  });

  it("both headers damaged: NO_VALID_HEADER, exit 1, and --repair writes nothing", () => {
    const p = damaged(dyn, tmp.path("hh.vhdx"), 64 * 1024 + 300);
    const b = readFileSync(p);
    b[128 * 1024 + 300] ^= 1;
    writeFileSync(p, b);
    const before = sha(p);
    const r = checkJson(p, "--repair");
    expect(r.code).toBe(1);
    expect(r.json.findings).toContainEqual(expect.objectContaining({ code: "NO_VALID_HEADER", severity: "error" }));
    expect(r.json.repairs ?? []).toEqual([]);
    expect(sha(p)).toBe(before);
  });

  it("a BAT entry in a reserved state: BAT_STATE_INVALID, exit 1, not repaired, file unchanged", () => {
    const p = tmp.path("bat.vhdx");
    copyFileSync(dyn, p);
    const b = readFileSync(p);
    // QEMU puts the BAT at 2 MiB; entry 3 is a payload entry.
    b.set(encodeBatEntry(5, 0), 2 * MiB + 3 * 8);
    writeFileSync(p, b);
    const before = sha(p);
    const r = checkJson(p, "--repair");
    expect(r.code).toBe(1);
    expect(r.json.findings).toContainEqual(
      expect.objectContaining({ code: "BAT_STATE_INVALID", offset: 2 * MiB + 24 }),
    );
    expect(sha(p)).toBe(before);
    const text = vhdx("check", p, "--repair");
    expect(text.stdout).toMatch(/not repaired: BAT_STATE_INVALID/);
  });

  it("a log left to replay: LOG_NEEDS_REPLAY, exit 1; --repair replays it; qemu-img check clean", async () => {
    const p = tmp.path("log.vhdx");
    copyFileSync(dyn, p);
    // A writer that stops right after its log entry is flushed, before applying it: a crash.
    const file = await NodeFileBackend.open(p, { readOnly: false });
    const bat = await file.read(2 * MiB, 4096);
    bat.set(encodeBatEntry(2, 0), 15 * 8); // block 15: NOT_PRESENT → ZERO (reads the same)
    const writer = new LogWriter(await HeaderUpdater.load(file), {
      afterLogFlush: () => {
        throw new Error("simulated crash");
      },
    });
    await expect(writer.commit([{ fileOffset: 2 * MiB, data: bat }])).rejects.toThrow("simulated crash");
    await file.close();
    const before = sha(p);
    const { code, json } = checkJson(p);
    expect(code).toBe(1);
    expect(json.findings).toContainEqual(
      expect.objectContaining({ code: "LOG_NEEDS_REPLAY", severity: "error", offset: MiB }),
    );
    expect(sha(p)).toBe(before);
    const r = checkJson(p, "--repair");
    expect(r.code).toBe(0);
    expect(r.json.repairs?.map((x) => x.code)).toEqual(["LOG_REPLAYED"]);
    expect(r.json.repairs![0].writes).toContainEqual(expect.objectContaining({ offset: 2 * MiB, length: 4096 }));
    expect(readFileSync(p).subarray(2 * MiB + 15 * 8, 2 * MiB + 16 * 8)).toEqual(Buffer.from(encodeBatEntry(2, 0)));
    const q = qemuCheck(p);
    expect(q.out).toMatch(/No errors were found/);
  });

  // Each damage of a QEMU image, the finding it must give, and where. QEMU's layout: BAT at 2 MiB,
  // metadata at 3 MiB with its items from 3 MiB + 64 KiB (File Parameters, then Virtual Disk Size).
  const BAT = 2 * MiB;
  const MD = 3 * MiB;
  const cases: { name: string; code: string; offset: number; damage: (b: Buffer) => Buffer }[] = [
    {
      name: "a block past the end of the file",
      code: "BAT_ENTRY_BEYOND_EOF",
      offset: BAT + 9 * 8,
      damage: (b) => (b.set(encodeBatEntry(6, 4000), BAT + 9 * 8), b),
    },
    {
      name: "two entries with one FileOffsetMB",
      code: "BAT_OFFSET_DUPLICATE",
      offset: BAT + 10 * 8,
      damage: (b) => (b.copy(b, BAT + 10 * 8, BAT + 9 * 8, BAT + 10 * 8), b),
    },
    {
      name: "a block inside the metadata region",
      code: "REGION_OVERLAP",
      offset: MD,
      damage: (b) => (b.set(encodeBatEntry(6, 3), BAT + 9 * 8), b),
    },
    {
      name: "a block size that is not a power of two",
      code: "METADATA_INVALID",
      offset: MD + 64 * 1024,
      damage: (b) => (b.writeUInt32LE(3 * MiB, MD + 64 * 1024), b),
    },
    {
      name: "a required metadata item missing",
      code: "METADATA_MISSING",
      offset: MD,
      damage: (b) => (b.writeUInt16LE(4, MD + 10), b),
    },
    {
      name: "a virtual size the BAT is too small for",
      code: "BAT_TOO_SMALL",
      offset: BAT,
      damage: (b) => (b.writeUInt32LE(0, MD + 64 * 1024 + 8), b.writeUInt32LE(0x400, MD + 64 * 1024 + 12), b),
    },
    {
      name: "a file cut inside its header section",
      code: "FILE_TRUNCATED",
      offset: 0,
      damage: (b) => b.subarray(0, 200 * 1024),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.code}, exit 1, and the file is left as it was`, () => {
      const p = tmp.path(`${c.code}.vhdx`);
      writeFileSync(p, c.damage(Buffer.from(readFileSync(dyn))));
      const before = sha(p);
      const { code, json } = checkJson(p);
      expect(code).toBe(1);
      expect(json.ok).toBe(false);
      expect(json.findings).toContainEqual(
        expect.objectContaining({ code: c.code, severity: "error", offset: c.offset }),
      );
      const r = checkJson(p, "--repair");
      expect(r.code).toBe(1);
      expect(r.json.repairs).toEqual([]);
      expect(sha(p)).toBe(before);
    });
  }

  it("not a VHDX file: exit 1 with NOT_VHDX; a missing file: one line on stderr", () => {
    const p = tmp.path("text.vhdx");
    writeFileSync(p, "hello world, not a disk\n".repeat(100));
    const { code, json } = checkJson(p);
    expect(code).toBe(1);
    expect(json.findings.map((f) => f.code)).toEqual(["NOT_VHDX"]);
    const missing = vhdx("check", tmp.path("nope.vhdx"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
  });
});
