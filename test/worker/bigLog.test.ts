/**
 * The worker's open, log, check and read on images whose log is 1 MiB or 4095 MiB, clean, with
 * LogGuid set and no entry, and with one unapplied entry. The file reaches the worker as a File
 * over the file on disk (Node's openAsBlob: read lazily, as a browser File is), so a 4 GiB image
 * costs only what the worker reads. The process's memory is sampled throughout: it must stay
 * within the worker's budget (BAT + 64 MiB) plus a margin, never near LogLength.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { HeaderUpdater } from "../../src/vhdx/log";
import { VhdxWriter } from "../../src/vhdx/write";
import { methods } from "../../src/worker/methods";
import type { CallContext } from "../../src/worker/protocol";
import { useTempDir } from "../helpers/tmp";

const MiB = 1024 * 1024;
const VIRTUAL = 16 * MiB;
/** The worker's budget beyond the BAT, and room for what the test runner itself allocates meanwhile. */
const MEMORY_LIMIT = 64 * MiB + 96 * MiB;
const AT = 3 * MiB + 512;
const pattern = Uint8Array.from({ length: 4096 }, (_, i) => (i * 13 + 5) & 255);

const tmp = useTempDir("vhdx-worker-biglog-");
const ctx = (): CallContext => ({ signal: new AbortController().signal, progress: () => undefined });

beforeAll(() => {
  vi.stubGlobal("navigator", {});
});
afterAll(() => {
  vi.unstubAllGlobals();
});
afterEach(async () => {
  await methods.close();
  for (const fd of openFds.splice(0)) closeSync(fd);
});

type State = "clean" | "guid" | "entry";

/**
 * A model of a browser File over a file on disk, read lazily slice by slice as Chromium's File is.
 * (Node's own openAsBlob reports sizes modulo 2^32, so it cannot stand in for a 4 GiB file.)
 */
const openFds: number[] = [];
function diskFile(path: string, name: string): File {
  const fd = openSync(path, "r");
  openFds.push(fd);
  const size = fstatSync(fd).size;
  const slice = (start: number, end: number) => ({
    size: end - start,
    async arrayBuffer(): Promise<ArrayBuffer> {
      const buf = new Uint8Array(end - start);
      for (let done = 0; done < buf.length;) {
        const n = readSync(fd, buf, done, buf.length - done, start + done);
        if (n === 0) break;
        done += n;
      }
      return buf.buffer;
    },
  });
  return { name, size, type: "", lastModified: 0, slice } as unknown as File;
}

async function makeImage(logMiB: number, state: State): Promise<string> {
  const path = tmp.path(`${state}-${logMiB}.vhdx`);
  const created = await NodeFileBackend.open(path, { create: "exclusive" });
  await createImage(created, { type: "dynamic", virtualSize: VIRTUAL, blockSize: MiB, logSize: logMiB * MiB });
  await created.close();
  const file = await NodeFileBackend.open(path, { readOnly: false });
  try {
    if (state === "guid") await (await HeaderUpdater.load(file)).update({}, { newLogGuid: true });
    if (state === "entry") {
      const w = new VhdxWriter(await openImage(file, { readOnly: false }), {
        afterLogFlush: () => {
          throw new Error("power cut");
        },
      });
      await expect(w.write(AT, pattern)).rejects.toThrow(/power cut/);
    }
  } finally {
    await file.close();
  }
  return path;
}

/** Runs `fn` while sampling the process's resident memory; returns the growth over the start. */
async function peakGrowth(fn: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - start;
}

describe("the worker on logs of 1 MiB to 4095 MiB", () => {
  // 4095 MiB: the states whose open must search the whole ring (a clean log is not read at open).
  // The Log and Check views on it read the ring as the CLI does; test/cli/big-log.test.ts covers those.
  const cases = [
    ...(["clean", "guid", "entry"] as const).map((state) => ({ logMiB: 1, state, views: true })),
    ...(["clean", "entry"] as const).map((state) => ({ logMiB: 4095, state, views: false })),
  ];
  for (const { logMiB, state, views } of cases) {
    {
      it(
        `${state}, ${logMiB} MiB log: open, log, check and read stay within the budget`,
        { timeout: 300_000 },
        async () => {
          const path = await makeImage(logMiB, state);
          const file = diskFile(path, `${state}.vhdx`);
          const growth = await peakGrowth(async () => {
            const r = await methods.open(ctx(), { kind: "file", file });
            expect(r.info.virtualSize).toBe(VIRTUAL);
            // A File is read-only storage: a pending log is replayed in memory, never into the file.
            expect(r.readOnly).toBe(true);
            const read = await methods.read(ctx(), "virtual", AT - 512, 8192);
            const expected = new Uint8Array(8192);
            if (state === "entry") expected.set(pattern, 512);
            expect(Buffer.from(read.value).equals(Buffer.from(expected))).toBe(true);
            if (!views) return;
            const report = (await methods.log()).value;
            expect(report.logLength).toBe(logMiB * MiB);
            expect(report.needsReplay).toBe(state === "entry");
            expect(report.warning !== null).toBe(state === "guid");
            const check = await methods.check(ctx());
            const codes = check.findings.map((f) => f.code);
            if (state === "entry") expect(codes).toContain("LOG_NEEDS_REPLAY");
            if (state === "guid") expect(codes).toContain("LOG_NO_VALID_SEQUENCE");
          });
          expect(growth).toBeLessThan(MEMORY_LIMIT);
        },
      );
    }
  }
});
