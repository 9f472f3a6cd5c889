/** Small helpers for the write tests: temp folders, the peer tools, deterministic bytes. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const isCI = process.env.CI === "true";

export function hasTool(name: string): boolean {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const found = r.status === 0 && r.stdout.trim() !== "";
  if (!found && isCI) throw new Error(`CI=true and ${name} is missing`);
  return found;
}

export function tempDir(prefix = "vhdx-write-"): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (n) => join(dir, n), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function run(
  cmd: string,
  args: string[],
  input?: Uint8Array,
): { status: number | null; stdout: string; stderr: string; signal: string | null } {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

export function runOk(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export function qemuInfo(path: string): {
  "virtual-size": number;
  format: string;
  "actual-size": number;
  "cluster-size"?: number;
} {
  return JSON.parse(runOk("qemu-img", ["info", "--output=json", "-f", "vhdx", path]));
}

export function qemuCheck(path: string): { status: number | null; out: string } {
  const r = run("qemu-img", ["check", "-f", "vhdx", path]);
  return { status: r.status, out: r.stdout + r.stderr };
}

/** QEMU's reading of the virtual disk, as raw bytes in a file. */
export function qemuToRaw(path: string, raw: string): void {
  runOk("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", path, raw]);
}

export function vhdiinfo(path: string): string {
  return runOk("vhdiinfo", [path]);
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function pattern(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export { existsSync };
