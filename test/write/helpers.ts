/** Small helpers for the write tests: temp folders, the peer tools, deterministic bytes. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { parentLocatorPaths } from "../../src/node/resolveParent";
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { VhdxWriter } from "../../src/vhdx/write";
import { isCI } from "../helpers/tools";

export { isCI };

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

/**
 * A new dynamic image at `path` holding `data` at `offset`, written through the engine. Returns
 * the virtual disk it now reads as, the model later reads are compared with.
 */
export async function dynamicImageWith(
  path: string,
  o: { size: number; blockSize: number; offset: number; data: Uint8Array },
): Promise<Uint8Array> {
  const f = await NodeFileBackend.open(path, { create: "overwrite" });
  await createImage(f, { type: "dynamic", virtualSize: o.size, blockSize: o.blockSize });
  const w = new VhdxWriter(await openImage(f, { readOnly: false }));
  await w.write(o.offset, o.data);
  await w.close();
  const model = new Uint8Array(o.size);
  model.set(o.data, o.offset);
  return model;
}

/**
 * A new differencing image at `path` over the image at `parentPath`: linked to its current
 * DataWriteGuid, with the locator paths given (by default, where the parent really is).
 */
export async function differencingChild(
  path: string,
  parentPath: string,
  o: { blockSize: number; relativePath?: string; absoluteWin32Path?: string },
): Promise<void> {
  const p = await openImage(await NodeFileBackend.open(parentPath));
  const paths =
    o.relativePath === undefined && o.absoluteWin32Path === undefined
      ? parentLocatorPaths(path, parentPath)
      : { relativePath: o.relativePath, absoluteWin32Path: o.absoluteWin32Path };
  const c = await NodeFileBackend.open(path, { create: "overwrite" });
  try {
    await createImage(c, {
      type: "differencing",
      blockSize: o.blockSize,
      parent: parentInfoOf(p, paths),
    });
  } finally {
    await c.close();
    await p.close();
  }
}
