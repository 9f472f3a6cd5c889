/**
 * Crash tests of real processes: the LD_PRELOAD library test/tools/kill-at-write.c kills a process
 * with SIGKILL right before its Nth positional write, counted across all its threads. Built with
 * gcc once, into the temp folder.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isCI, requireTool } from "./tools";
import { run, runOk, type RunResult } from "./run";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The shim's source, part of the repository. */
export const KILLAT_SOURCE = resolve(repoRoot, "test", "tools", "kill-at-write.c");

let built: string | undefined;

/**
 * Undefined when the shim can be built, else the reason it cannot (for describe.skipIf): only a
 * missing C compiler, which `npm test` installs. Under CI=true (and under `npm test`) that throws:
 * crash tests never silently vanish there.
 */
export function crashShimUnavailable(): string | undefined {
  let reason: string | undefined;
  try {
    requireTool("gcc");
  } catch (e) {
    reason = (e as Error).message;
  }
  if (reason && isCI) throw new Error(`crash tests cannot run: ${reason}`);
  if (reason) console.warn(`[skipped] ${reason}`);
  return reason;
}

/**
 * Path of the built shim, compiling it on first use. The library is cached in the temp folder under a
 * name derived from the source's hash, so runs share one build and nothing piles up in /tmp.
 */
export function killatLibrary(): string {
  if (built) return built;
  if (!existsSync(KILLAT_SOURCE)) throw new Error(`crash shim source not found at ${KILLAT_SOURCE}`);
  const digest = createHash("sha256").update(readFileSync(KILLAT_SOURCE)).digest("hex").slice(0, 16);
  const so = join(tmpdir(), `vhdx-kill-at-write-${digest}.so`);
  if (!existsSync(so)) {
    // Build beside the final name and rename: parallel test files never load a half-written library.
    const dir = mkdtempSync(join(tmpdir(), "vhdx-killat-build-"));
    try {
      const tmpSo = join(dir, "kill-at-write.so");
      runOk(requireTool("gcc"), ["-shared", "-fPIC", "-O2", "-o", tmpSo, KILLAT_SOURCE, "-ldl"]);
      renameSync(tmpSo, so);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  built = so;
  return so;
}

function shimEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const preload = [killatLibrary(), process.env.LD_PRELOAD].filter(Boolean).join(" ");
  return { ...process.env, LD_PRELOAD: preload, ...extra };
}

/** How many positional writes (pwrite/pwritev family) a full, uninterrupted run makes. */
export function countWrites(cmd: string, args: readonly string[]): { count: number; result: RunResult } {
  const dir = mkdtempSync(join(tmpdir(), "vhdx-killat-count-"));
  try {
    const countFile = join(dir, "count");
    const result = run(cmd, args, { env: shimEnv({ VHDX_KILL_AT_WRITE: "0", VHDX_WRITE_COUNT_FILE: countFile }) });
    if (!existsSync(countFile)) {
      throw new Error(
        `${cmd} ${args.join(" ")} left no write count (exit ${result.exitCode}, signal ${result.signal}):\n${result.stderr}`,
      );
    }
    return { count: Number(readFileSync(countFile, "utf8").trim()), result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the command and kills it right before its nth positional write (1-based).
 * `killed` is false when the process made fewer than n writes and ended by itself.
 */
export function runKilledAt(cmd: string, args: readonly string[], n: number): RunResult & { killed: boolean } {
  if (!Number.isInteger(n) || n < 1) throw new Error(`runKilledAt: n must be a positive integer, got ${n}`);
  const r = run(cmd, args, { env: shimEnv({ VHDX_KILL_AT_WRITE: String(n) }) });
  return { ...r, killed: r.signal === "SIGKILL" };
}

/**
 * `VHDX_FULL_CRASH=1` makes every crash walk kill the run before each of its writes in turn; without
 * it, a walk kills at the points `killPoints` picks: every place the run changes what it writes,
 * and the ends and middle of each stretch of writes of one kind (see killPoints).
 */
export const FULL_CRASH = /^(1|true|yes)$/i.test(process.env.VHDX_FULL_CRASH ?? "");

/** One positional write of a traced run (numbered from 1, as VHDX_KILL_AT_WRITE counts). */
export interface TracedWrite {
  n: number;
  fd: number;
  offset: number;
  length: number;
  /** The process called fsync/fdatasync since its previous write (or, for the first, at all). */
  afterFlush: boolean;
}

/**
 * Runs the command once to the end, recording each of its positional writes (file, offset,
 * length) and where it flushed: the input of killPoints. Writes of child processes are left out,
 * as the kill counter of the process itself does not count them.
 */
export function traceWrites(
  cmd: string,
  args: readonly string[],
): { count: number; writes: TracedWrite[]; result: RunResult } {
  const dir = mkdtempSync(join(tmpdir(), "vhdx-killat-trace-"));
  try {
    const countFile = join(dir, "count");
    const traceFile = join(dir, "trace");
    writeFileSync(traceFile, "");
    const env = shimEnv({
      VHDX_KILL_AT_WRITE: "0",
      VHDX_WRITE_COUNT_FILE: countFile,
      VHDX_WRITE_TRACE_FILE: traceFile,
    });
    const result = run(cmd, args, { env });
    if (!existsSync(countFile)) {
      throw new Error(
        `${cmd} ${args.join(" ")} left no write count (exit ${result.exitCode}, signal ${result.signal}):\n${result.stderr}`,
      );
    }
    const count = Number(readFileSync(countFile, "utf8").trim());
    const writes = parseTrace(readFileSync(traceFile, "utf8"), count, result.pid);
    if (writes.length !== count || writes.some((w, i) => w.n !== i + 1))
      throw new Error(`${cmd}: the trace lists ${writes.length} writes, the counter ${count}`);
    return { count, writes, result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The writes of the traced process whose count the counter file holds: the one started, or, when it
 * made none itself (a shell), the child that made them. Flush lines of that process mark afterFlush.
 */
function parseTrace(text: string, count: number, pid: number | undefined): TracedWrite[] {
  const byPid = new Map<number, TracedWrite[]>();
  const flushed = new Set<number>();
  for (const line of text.split("\n")) {
    const w = /^w (\d+) (\d+) (-?\d+) (\d+) (\d+)$/.exec(line);
    const f = /^f (\d+) (\d+)$/.exec(line);
    if (w) {
      const p = Number(w[5]);
      const list = byPid.get(p) ?? [];
      byPid.set(p, list);
      list.push({
        n: Number(w[1]),
        fd: Number(w[2]),
        offset: Number(w[3]),
        length: Number(w[4]),
        afterFlush: flushed.has(p),
      });
      flushed.delete(p);
    } else if (f) flushed.add(Number(f[2]));
    else if (line !== "") throw new Error(`unexpected line in a write trace: ${line}`);
  }
  const own = pid === undefined ? undefined : byPid.get(pid);
  if (own && own.length > 0) return own;
  return [...byPid.values()].find((list) => list.length === count) ?? [];
}

/** What a write is, for killPoints: its file, its length, and where it lands (a 64 KiB slot in the first MiB, a power-of-two band past it). */
export function writeKind(w: TracedWrite): string {
  const MiB = 1024 * 1024;
  const where = w.offset < MiB ? `slot${Math.floor(w.offset / 65536)}` : `band${Math.floor(Math.log2(w.offset / MiB))}`;
  return `${w.fd}:${w.length}:${where}`;
}

/** Kill points spread evenly through the run besides those tied to its structure. */
const SPREAD_POINTS = 4;

/**
 * The kill points (1-based write numbers) a crash walk visits. A run killed before write n has
 * made writes 1 … n-1: what recovery faces depends on which step of the writer's protocol was cut
 * (the kinds of writes n-1 and n, and whether a flush lies between them, `kind` naming a write by
 * its file, length and region) and on how far the run had got. So the walk visits, besides the
 * first and last write:
 *  - each step (a pair of kinds, with or without a flush between) at its first and last occurrence:
 *    every change of kind the run makes, early and late in the run;
 *  - inside each stretch of like writes with no flush between, its second, middle and last write;
 *  - SPREAD_POINTS writes evenly spaced through the run.
 * A run whose writes repeat one pattern (N like data writes, the same allocation cycle per block)
 * is then visited a few times per pattern rather than N times. With FULL_CRASH: every write.
 */
export function killPoints(writes: readonly TracedWrite[], kind: (w: TracedWrite) => string = writeKind): number[] {
  if (FULL_CRASH || writes.length === 0) return writes.map((w) => w.n);
  const kinds = writes.map(kind);
  const points = new Set<number>([writes[0].n, writes[writes.length - 1].n]);
  const steps = new Map<string, { first: number; last: number }>();
  let start = 0;
  for (let i = 1; i <= writes.length; i++) {
    const endsStretch = i === writes.length || writes[i].afterFlush || kinds[i] !== kinds[i - 1];
    if (i < writes.length) {
      const step = `${kinds[i - 1]}${writes[i].afterFlush ? " flush " : " "}${kinds[i]}`;
      const seen = steps.get(step);
      if (seen) seen.last = writes[i].n;
      else steps.set(step, { first: writes[i].n, last: writes[i].n });
    }
    if (!endsStretch) continue;
    // Its first write is a step's; inside it, the second, middle and last.
    for (const j of [start + 1, Math.floor((start + i) / 2), i - 1]) if (j > start && j < i) points.add(writes[j].n);
    start = i;
  }
  for (const { first, last } of steps.values()) points.add(first).add(last);
  for (let k = 1; k <= SPREAD_POINTS; k++)
    points.add(writes[Math.floor((k * (writes.length - 1)) / (SPREAD_POINTS + 1))].n);
  return [...points].sort((a, b) => a - b);
}
