/**
 * VHD (v1) peers: qemu-img and qemu-io through QEMU's "vpc" driver, and The Sleuth Kit's img_cat
 * (`-i vhd`, which reads through libvhdi). Nothing here knows the VHD format.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { patternBytes } from "./random";
import { requireTool } from "./tools";
import { runOk } from "./run";

export function qemuVhd(
  path: string,
  sizeBytes: number,
  subformat: "fixed" | "dynamic",
  opts: { forceSize?: boolean } = {},
): string {
  const o = [`subformat=${subformat}`];
  if (opts.forceSize) o.push("force_size=on");
  runOk(requireTool("qemu-img"), ["create", "-q", "-f", "vpc", "-o", o.join(","), path, String(sizeBytes)]);
  return path;
}

/** Seeded random bytes written through QEMU's vpc driver, in one qemu-io run. */
export function qemuIoWriteVpc(
  path: string,
  writes: readonly { offset: number; length: number; seed: number }[],
): void {
  const dir = mkdtempSync(join(tmpdir(), "vhd-qemu-io-"));
  try {
    const cmds: string[] = [];
    writes.forEach((w, i) => {
      const src = join(dir, `w${i}.bin`);
      writeFileSync(src, patternBytes(w.seed, w.length));
      cmds.push("-c", `write -q -s ${src} ${w.offset} ${w.length}`);
    });
    runOk(requireTool("qemu-io"), ["-f", "vpc", ...cmds, path]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The virtual disk as QEMU reads it (small disks only). */
export function qemuVpcToRaw(path: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "vhd-raw-"));
  try {
    const raw = join(dir, "disk.raw");
    runOk(requireTool("qemu-img"), ["convert", "-f", "vpc", "-O", "raw", path, raw]);
    return readFileSync(raw);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The virtual disk as The Sleuth Kit (libvhdi) reads it. */
export function imgCatVhd(path: string): Buffer {
  return execFileSync(requireTool("img_cat"), ["-i", "vhd", path], { maxBuffer: 256 * 1024 * 1024 });
}

/** `qemu-img info --output=json -f vpc`. */
export function qemuVpcInfo(path: string): { "virtual-size": number; format: string } {
  return JSON.parse(runOk(requireTool("qemu-img"), ["info", "--output=json", "-f", "vpc", path]).stdout) as {
    "virtual-size": number;
    format: string;
  };
}
