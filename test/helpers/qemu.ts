/**
 * QEMU as the independent reference: qemu-img makes and reads images, qemu-io writes into them.
 * Nothing here knows the VHDX format; it only drives QEMU's own driver.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { patternBytes } from "./random";
import { requireTool } from "./tools";
import { run, runOk } from "./run";

export interface QemuImageOptions {
  path: string;
  sizeBytes: number;
  subformat?: "fixed" | "dynamic";
  /** 0 or undefined lets QEMU choose. */
  blockSizeMiB?: number;
  logSizeMiB?: number;
  blockStateZero?: boolean;
}

export function createQemuImage(o: QemuImageOptions): string {
  const opts = [`subformat=${o.subformat ?? "dynamic"}`];
  if (o.blockSizeMiB) opts.push(`block_size=${o.blockSizeMiB}M`);
  if (o.logSizeMiB) opts.push(`log_size=${o.logSizeMiB}M`);
  if (o.blockStateZero !== undefined) opts.push(`block_state_zero=${o.blockStateZero ? "on" : "off"}`);
  runOk(requireTool("qemu-img"), ["create", "-q", "-f", "vhdx", "-o", opts.join(","), o.path, String(o.sizeBytes)]);
  return o.path;
}

export interface SeededWrite {
  offset: number;
  length: number;
  /** patternBytes(seed, length) is what lands at offset. */
  seed: number;
}

let writeSourceSupport: boolean | undefined;

/** Whether this qemu-io's write takes `-s source_file` (QEMU 5.0 and later). */
export function qemuIoHasWriteSource(): boolean {
  if (writeSourceSupport === undefined) {
    const r = run(requireTool("qemu-io"), ["-c", "help write"]);
    writeSourceSupport = /-s\b[^\n]*source/.test(r.stdout + r.stderr);
  }
  return writeSourceSupport;
}

/**
 * Writes seeded random patterns through QEMU's VHDX driver, all in one qemu-io process.
 * The bytes come from patternBytes() so a test can predict them; QEMU only carries them.
 * Without `write -s`, falls back to one-byte -P patterns (value = seed & 0xff), which
 * expectedBytes() mirrors.
 */
export function qemuIoWrite(path: string, writes: readonly SeededWrite[]): void {
  if (writes.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), "vhdx-qemu-io-"));
  try {
    const cmds: string[] = [];
    const withSource = qemuIoHasWriteSource();
    writes.forEach((w, i) => {
      if (withSource) {
        const src = join(dir, `w${i}.bin`);
        writeFileSync(src, patternBytes(w.seed, w.length));
        cmds.push("-c", `write -q -s ${src} ${w.offset} ${w.length}`);
      } else {
        cmds.push("-c", `write -q -P ${w.seed & 0xff} ${w.offset} ${w.length}`);
      }
    });
    runOk(requireTool("qemu-io"), ["-f", "vhdx", ...cmds, path]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bytes a seeded write puts down, whichever way qemuIoWrite() had to write them. */
export function expectedBytes(w: SeededWrite): Uint8Array {
  return qemuIoHasWriteSource() ? patternBytes(w.seed, w.length) : new Uint8Array(w.length).fill(w.seed & 0xff);
}

/** `qemu-img convert -O raw`: QEMU's reading of the whole virtual disk, as a file path. */
export function qemuConvertToRawFile(path: string, rawPath: string): string {
  runOk(requireTool("qemu-img"), ["convert", "-f", "vhdx", "-O", "raw", path, rawPath]);
  return rawPath;
}

/** Same, as a Buffer (for small disks; the file is removed). */
export function qemuConvertToRaw(path: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "vhdx-raw-"));
  try {
    const raw = qemuConvertToRawFile(path, join(dir, "disk.raw"));
    return readFileSync(raw);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface QemuCheckResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** `qemu-img check` (with `-r all` when repair is asked). Exit 0 = clean, 2 = corruptions, 3 = leaks. */
export function qemuCheck(path: string, repair = false): QemuCheckResult {
  const args = ["check", "-f", "vhdx", ...(repair ? ["-r", "all"] : []), path];
  const r = run(requireTool("qemu-img"), args);
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

export interface QemuInfo {
  "virtual-size": number;
  filename: string;
  "cluster-size"?: number;
  format: string;
  "actual-size"?: number;
  "dirty-flag"?: boolean;
  [key: string]: unknown;
}

/** Parsed `qemu-img info --output=json`. */
export function qemuInfo(path: string): QemuInfo {
  const r = runOk(requireTool("qemu-img"), ["info", "-f", "vhdx", "--output=json", path]);
  return JSON.parse(r.stdout) as QemuInfo;
}
