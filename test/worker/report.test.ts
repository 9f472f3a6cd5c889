/**
 * The editor's Report (the worker's `report` method) and `vhdx report --json` give the same JSON
 * for the same file; only `generatedAt` (the time each was made) may differ. The SHA-256 is
 * checked against node:crypto, and the BAT change the log would make against the bytes written.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { methods } from "../../src/worker/methods";
import type { CallContext } from "../../src/worker/protocol";
import { buildImage, withPendingLog } from "../helpers/buildImage";
import { useTempDir } from "../helpers/tmp";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const tmp = useTempDir("vhdx-worker-report-");

beforeAll(() => {
  vi.stubGlobal("navigator", {});
});
afterAll(() => {
  vi.unstubAllGlobals();
});
afterEach(async () => {
  await methods.close();
});

describe("the file report", () => {
  it("is the same JSON from the worker and from `vhdx report --json`, but for generatedAt", async () => {
    const img = buildImage({ virtualSize: 8 * 1024 * 1024, allocated: [0, 2] });
    const bat = img.bytes.slice(img.batOffset, img.batOffset + 4096);
    new DataView(bat.buffer).setUint32(5 * 8, 6 | (40 << 20), true); // block 5 → FULLY_PRESENT at 40 MiB
    withPendingLog(img, [{ fileOffset: img.batOffset, data: bat }], { lastFileOffset: 41 * 1024 * 1024 });
    const path = tmp.path("dirty.vhdx");
    writeFileSync(path, img.bytes);

    const progress: number[] = [];
    const ctx: CallContext = { signal: new AbortController().signal, progress: (f) => progress.push(f) };
    await methods.open(ctx, { kind: "file", file: new File([readFileSync(path)], "dirty.vhdx") });
    const made = await methods.report(ctx);
    const fromWorker = JSON.parse(JSON.stringify(made.report)) as Record<string, unknown>;
    expect(made.markdown).toContain(made.report.file.sha256);
    const cli = spawnSync(process.execPath, [VHDX, "report", path, "--json"], { encoding: "utf8" });
    expect(cli.status, cli.stderr).toBe(0);
    const fromCli = JSON.parse(cli.stdout) as Record<string, unknown>;

    expect(typeof fromWorker.generatedAt).toBe("string");
    expect({ ...fromWorker, generatedAt: null }).toEqual({ ...fromCli, generatedAt: null });
    expect(progress.at(-1)).toBe(1);

    const file = fromCli.file as { sha256: string; size: number };
    expect(file.sha256).toBe(createHash("sha256").update(img.bytes).digest("hex"));
    expect(file.size).toBe(img.bytes.length);
    const log = fromCli.log as { needsReplay: boolean; changes: { changes: { text: string }[] } };
    expect(log.needsReplay).toBe(true);
    expect(log.changes.changes.map((c) => c.text)).toContain(
      "BAT entry 5 (payload block 5): NOT_PRESENT → FULLY_PRESENT at file 0x280_0000",
    );
  });

  it("stops when cancelled", async () => {
    const img = buildImage({ virtualSize: 8 * 1024 * 1024, allocated: [0] });
    const ac = new AbortController();
    const ctx: CallContext = { signal: ac.signal, progress: () => undefined };
    await methods.open(ctx, { kind: "file", file: new File([Buffer.from(img.bytes)], "clean.vhdx") });
    ac.abort();
    await expect(methods.report(ctx)).rejects.toMatchObject({ code: "CANCELLED" });
  });
});
