import { spawnSync } from "node:child_process";

/** True when `tool` runs; interop tests skip themselves when a peer is missing. */
export function hasTool(tool: string): boolean {
  const r = spawnSync(tool, ["--help"], { encoding: "utf8" });
  return !r.error;
}

/** Runs a peer tool and returns its stdout; throws with stderr when it fails. */
export function runTool(tool: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(tool, args, { encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
