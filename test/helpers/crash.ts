/**
 * Crash tests of real processes: the LD_PRELOAD library test/tools/kill-at-write.c kills a process
 * with SIGKILL right before its Nth positional write, counted across all its threads. Built with
 * gcc once, into the temp folder.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
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
