/** Running peer tools as whole processes, with their output captured for the failure message. */
import { spawnSync } from "node:child_process";

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The process id it ran as. */
  pid?: number;
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): RunResult {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    env: opts.env ?? process.env,
    input: opts.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { exitCode: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

/** Runs and throws with the command line and its stderr unless it exits 0. */
export function runOk(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = run(cmd, args, opts);
  if (r.exitCode !== 0) {
    const why = r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
    throw new Error(`${cmd} ${args.join(" ")} failed (${why}):\n${r.stderr}${r.stdout}`);
  }
  return r;
}
