/**
 * Crash tests of real processes: the shared LD_PRELOAD shim (../shared/tools/killat.c beside the
 * repository) kills a process with SIGKILL right before its Nth positional write, counted across
 * all its threads. Built with gcc once, into the temp folder.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isCI, requireTool } from "./tools";
import { run, runOk, type RunResult } from "./run";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the shim's source is expected: the shared tools folder next to the repository. */
export const KILLAT_SOURCE = process.env.VHDX_KILLAT_SOURCE ?? resolve(repoRoot, "..", "shared", "tools", "killat.c");

let built: string | undefined;

/**
 * Undefined when the shim can be built, else the reason it cannot (for describe.skipIf).
 * Under CI=true a missing source or compiler throws: crash tests never silently vanish there.
 */
export function crashShimUnavailable(): string | undefined {
  let reason: string | undefined;
  if (!existsSync(KILLAT_SOURCE)) reason = `crash shim source not found at ${KILLAT_SOURCE}`;
  else {
    try {
      requireTool("gcc");
    } catch (e) {
      reason = (e as Error).message;
    }
  }
  if (reason && isCI) throw new Error(`CI=true and crash tests cannot run: ${reason}`);
  if (reason) console.warn(`[skipped] ${reason}`);
  return reason;
}

/**
 * Path of killat.so, compiling it on first use. The library is cached in the temp folder under a
 * name derived from the source's hash, so runs share one build and nothing piles up in /tmp.
 */
export function killatLibrary(): string {
  if (built) return built;
  if (!existsSync(KILLAT_SOURCE)) throw new Error(`crash shim source not found at ${KILLAT_SOURCE}`);
  const digest = createHash("sha256").update(readFileSync(KILLAT_SOURCE)).digest("hex").slice(0, 16);
  const so = join(tmpdir(), `vhdx-killat-${digest}.so`);
  if (!existsSync(so)) {
    // Build beside the final name and rename: parallel test files never load a half-written library.
    const dir = mkdtempSync(join(tmpdir(), "vhdx-killat-build-"));
    try {
      const tmpSo = join(dir, "killat.so");
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
    const result = run(cmd, args, { env: shimEnv({ KILLAT_N: "0", KILLAT_COUNT: countFile }) });
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
  const r = run(cmd, args, { env: shimEnv({ KILLAT_N: String(n) }) });
  return { ...r, killed: r.signal === "SIGKILL" };
}
