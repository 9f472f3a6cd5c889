/**
 * Logs of any length a u32 LogLength allows (§2.2.2: a multiple of 1 MiB, up to 4095 MiB), clean
 * and dirty, through every command that reads the log. The log region of a fresh image is zeros,
 * so these files are sparse and cheap, and the log search reads around their holes
 * (test/node/logHoles.test.ts proves it skips them and still finds an entry past one). Expected bytes come from what was written, not from the
 * engine; peak memory is the child's own maxRSS, reported at exit by a preloaded script.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openImage } from "../../src/vhdx/image";
import { HeaderUpdater } from "../../src/vhdx/log";
import { VhdxWriter } from "../../src/vhdx/write";
import { useTempDir } from "../helpers/tmp";

const MiB = 1024 * 1024;
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "vhdx.cjs");
/** Small: what is read here is the log; the disk only has to hold the pattern at PATTERN_AT. */
const VIRTUAL = 8 * MiB;
/** Far below any log read whole (the old scan held LogLength bytes), well above Node's own ~60 MiB. */
const RSS_LIMIT_KIB = 200 * 1024;

const tmp = useTempDir("vhdx-biglog-");

function vhdx(...args: string[]): { code: number | null; stdout: Buffer; stderr: string; maxRssKiB: number } {
  const rssFile = tmp.path(`rss-${Math.random().toString(36).slice(2)}`);
  const preload = tmp.path("rss.cjs");
  writeFileSync(
    preload,
    `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));`,
  );
  const r = spawnSync(process.execPath, ["-r", preload, BIN, ...args], {
    maxBuffer: 2 * VIRTUAL,
    env: { ...process.env, VHDX_DEBUG: "" },
  });
  const maxRssKiB = Number(readFileSync(rssFile, "utf8"));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString(), maxRssKiB };
}

function ok(...args: string[]) {
  const r = vhdx(...args);
  if (r.code !== 0) throw new Error(`vhdx ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
  return r;
}

function create(name: string, logMiB: number): string {
  const path = tmp.path(name);
  ok("create", path, "--size", String(VIRTUAL), "--log-size", `${logMiB}M`);
  return path;
}

/** LogGuid set with nothing written to the log: a writer stopped between its header update and its first entry. */
async function setLogGuidOnly(path: string): Promise<void> {
  const file = await NodeFileBackend.open(path, { readOnly: false });
  try {
    const updater = await HeaderUpdater.load(file);
    await updater.update({}, { newLogGuid: true });
  } finally {
    await file.close();
  }
}

const PATTERN_AT = 5 * MiB + 4096;
const pattern = new Uint8Array(8192).map((_, i) => (i * 7 + 3) & 0xff);

/** A real entry left unapplied: the write's data flushed, its BAT entry only in the log. */
async function leaveEntry(path: string): Promise<void> {
  const file = await NodeFileBackend.open(path, { readOnly: false });
  const img = await openImage(file, { readOnly: false });
  const w = new VhdxWriter(img, {
    afterLogFlush: () => {
      throw new Error("power cut after the log entry");
    },
  });
  await expect(w.write(PATTERN_AT, pattern)).rejects.toThrow(/power cut/);
  await file.close();
}

function expectedDisk(withPattern: boolean): Buffer {
  const b = Buffer.alloc(VIRTUAL);
  if (withPattern) b.set(pattern, PATTERN_AT);
  return b;
}

describe("logs from 1 MiB to 4095 MiB", () => {
  for (const logMiB of [1, 2047, 2048, 4095]) {
    it(`a clean ${logMiB} MiB log: log, info, check read it in bounded memory`, { timeout: 180_000 }, () => {
      const path = create(`clean-${logMiB}.vhdx`, logMiB);
      const log = ok("log", path, "--json");
      const report = JSON.parse(log.stdout.toString()) as { logLength: number; entries: unknown[]; empty: boolean };
      expect(report.logLength).toBe(logMiB * MiB);
      expect(report.entries).toEqual([]);
      expect(report.empty).toBe(true);
      const info = ok("info", path);
      expect(info.stdout.toString()).toMatch(/virtual size\s+8 MiB/);
      const check = ok("check", path);
      expect(check.stdout.toString()).toMatch(/ok|no problems/i);
      for (const r of [log, info, check]) expect(r.maxRssKiB).toBeLessThan(RSS_LIMIT_KIB);
      expect(ok("cat", path).stdout.equals(expectedDisk(false))).toBe(true);
    });
  }

  for (const logMiB of [1, 4095]) {
    it(
      `a ${logMiB} MiB log with LogGuid set and no entry: treated as empty, replay clears it`,
      { timeout: 300_000 },
      async () => {
        const path = create(`guid-${logMiB}.vhdx`, logMiB);
        await setLogGuidOnly(path);
        const log = ok("log", path);
        expect(log.stdout.toString()).toMatch(/no valid entry sequence/);
        expect(log.stdout.toString()).toMatch(/no active sequence/);
        const info = ok("info", path);
        expect(info.stdout.toString()).toMatch(/virtual size\s+8 MiB/);
        const cat = ok("cat", path);
        expect(cat.stdout.equals(expectedDisk(false))).toBe(true);
        const check = vhdx("check", path);
        expect(check.stdout.toString()).toMatch(/LOG_NO_VALID_SEQUENCE/);
        for (const r of [log, info, cat, check]) expect(r.maxRssKiB).toBeLessThan(RSS_LIMIT_KIB);
        expect(ok("replay", path).stdout.toString()).toMatch(/no valid sequence; marked empty/);
        expect(ok("log", path).stdout.toString()).toMatch(/\(empty\)/);
      },
    );

    it(
      `a ${logMiB} MiB log holding one unapplied entry: every reader replays it, replay applies it`,
      { timeout: 300_000 },
      async () => {
        const path = create(`entry-${logMiB}.vhdx`, logMiB);
        await leaveEntry(path);
        const log = ok("log", path);
        expect(log.stdout.toString()).toMatch(/active sequence: 1 entries/);
        const info = ok("info", path);
        const cat = ok("cat", path);
        expect(cat.stdout.equals(expectedDisk(true))).toBe(true);
        const check = vhdx("check", path);
        expect(check.stdout.toString()).toMatch(/LOG_NEEDS_REPLAY/);
        for (const r of [log, info, cat, check]) expect(r.maxRssKiB).toBeLessThan(RSS_LIMIT_KIB);
        const replay = ok("replay", path);
        expect(replay.stdout.toString()).toMatch(/replayed 1 log entries/);
        expect(replay.maxRssKiB).toBeLessThan(RSS_LIMIT_KIB);
        expect(ok("check", path).stdout.toString()).not.toMatch(/LOG_NEEDS_REPLAY/);
        expect(ok("cat", path).stdout.equals(expectedDisk(true))).toBe(true);
      },
    );
  }
});
