// Shared pieces of `npm run bench`: timing whole processes, medians, and the inputs every row may need.
// A row is one module in bench/rows/ (see bench/README.md); this file never needs to change to add one.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readSync, writeSync, ftruncateSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** Our command as a user runs it: `node bin/vhdx.cjs …` (what `npx vhdx …` starts). */
export function vhdx(...args) {
  return { cmd: process.execPath, args: [join(ROOT, "bin", "vhdx.cjs"), ...args] };
}

/**
 * Runs a command to completion and returns its wall time in milliseconds.
 * stdout: "null" (discarded, as `> /dev/null`), "pipe" (captured, returned), or a file path.
 * Throws with the command's stderr when it fails: a failing command has no timing worth showing.
 */
export function timeProcess({ cmd, args }, { stdout = "null", env = process.env, timeoutMs } = {}) {
  let fd = -1;
  let out = "pipe";
  if (stdout === "null") out = "ignore";
  else if (stdout !== "pipe") out = fd = openSync(stdout, "w");
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ["ignore", out, "pipe"], maxBuffer: 256 * MiB, env, timeout: timeoutMs });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    // Stopped at the time limit: the command takes at least that long.
    if (timeoutMs !== undefined && r.error?.code === "ETIMEDOUT") return { ms, timedOut: true };
    if (r.error) throw r.error;
    if (r.status !== 0) {
      const why = (r.stderr?.toString() || "").trim().split("\n")[0] || `exit ${r.status ?? r.signal}`;
      throw new Error(`${[cmd, ...args].join(" ")}: ${why}`);
    }
    return { ms, stdout: stdout === "pipe" ? r.stdout : undefined };
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export function fmtMs(ms) {
  return ms === undefined ? "—" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export function fmtBytes(n) {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** Runs one of the in-process measurements (bench/inproc.ts, bundled) and returns its JSON report. */
export function inproc(...args) {
  return JSON.parse(run(process.execPath, [join(ROOT, "dist", "bench-inproc.mjs"), ...args.map(String)]));
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * MiB });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

let freshCount = 0;

/**
 * A path in `dir` that names no file yet, new at every call: every timed run writes a fresh output,
 * so no run is ever refused (or slowed) because an earlier run's output is still there.
 */
export function freshPath(dir, stem, ext) {
  const path = join(dir, `${stem}-${++freshCount}.${ext}`);
  if (existsSync(path)) throw new Error(`${path} exists before the run: outputs must be fresh`);
  return path;
}

/** A sparse raw disk of `size` bytes with random data at each of `at` (each `length` bytes long), holes elsewhere. */
function sparseRaw(path, size, at, length) {
  const fd = openSync(path, "w");
  const buf = Buffer.alloc(length);
  try {
    ftruncateSync(fd, size);
    for (const a of at) writeSync(fd, randomFillSync(buf), 0, length, a);
  } finally {
    closeSync(fd);
  }
}

/**
 * Inputs shared between rows, built once per bench run in its temp folder and memoised by name.
 * Each builder uses QEMU (and, as it lands, the engine) — nothing large is committed.
 */
export class Inputs {
  constructor(dir) {
    this.dir = dir;
    this.cache = new Map();
  }

  path(name) {
    return join(this.dir, name);
  }

  async get(name, build) {
    if (!this.cache.has(name)) this.cache.set(name, await build(this.path(name)));
    return this.cache.get(name);
  }

  /** 1 GiB dynamic VHDX (8 MiB blocks), every other block full of random bytes, the rest never written. */
  dynamic1GiBHalf() {
    return this.get("dynamic-1g-half.vhdx", (path) => {
      const blockSize = 8 * MiB;
      const raw = this.path("dynamic-1g-half.raw");
      const fd = openSync(raw, "w");
      const buf = Buffer.alloc(blockSize);
      try {
        ftruncateSync(fd, GiB); // sparse: the odd blocks stay holes, which qemu-img convert leaves unallocated
        for (let b = 0; b < GiB / blockSize; b += 2) writeSync(fd, randomFillSync(buf), 0, blockSize, b * blockSize);
      } finally {
        closeSync(fd);
      }
      run("qemu-img", [
        "convert",
        "-f",
        "raw",
        "-O",
        "vhdx",
        "-o",
        `subformat=dynamic,block_size=${blockSize}`,
        raw,
        path,
      ]);
      return { path, raw, virtualSize: GiB, blockSize };
    });
  }

  /**
   * The same 1 GiB raw disk as dynamic1GiBHalf's, with its zero blocks written out as zeros instead
   * of left as holes (a disk copied with dd): a reader cannot skip them with SEEK_DATA.
   */
  async raw1GiBHalfDense() {
    const img = await this.dynamic1GiBHalf();
    return this.get("raw-1g-half-dense.raw", (path) => {
      const fd = openSync(path, "w");
      const src = openSync(img.raw, "r");
      const buf = Buffer.alloc(img.blockSize);
      try {
        for (let at = 0; at < GiB; at += buf.length) {
          readSync(src, buf, 0, buf.length, at);
          writeSync(fd, buf, 0, buf.length, at);
        }
      } finally {
        closeSync(src);
        closeSync(fd);
      }
      return { raw: path };
    });
  }

  /** A raw disk made into a dynamic VHDX by qemu-img (32 MiB blocks); `raw` is kept to check outputs against. */
  qemuDynamic(name, size, at, length) {
    return this.get(`${name}.vhdx`, (path) => {
      const raw = this.path(`${name}.raw`);
      sparseRaw(raw, size, at, length);
      run("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=32M", raw, path]);
      return { path, raw, virtualSize: size, blockSize: 32 * MiB };
    });
  }

  /** 1 GiB dynamic VHDX, 32 MiB blocks, every other block random (512 MiB), the rest never written. */
  dynamic1GiBHalf32M() {
    const at = Array.from({ length: 16 }, (_, i) => 2 * i * 32 * MiB);
    return this.qemuDynamic("dynamic-1g-half-32m", GiB, at, 32 * MiB);
  }

  /** 64 GiB dynamic VHDX, 32 MiB blocks, 1 GiB of random data in 32 blocks spread over the disk. */
  dynamic64GiB1GiB() {
    const at = Array.from({ length: 32 }, (_, i) => i * 2 * GiB + (i % 7) * 32 * MiB);
    return this.qemuDynamic("dynamic-64g-1g", 64 * GiB, at, 32 * MiB);
  }

  /** An empty 8 TiB dynamic VHDX made by qemu-img, 32 MiB blocks (262,144 NOT_PRESENT entries). */
  dynamic8TiBEmpty() {
    return this.get("dynamic-8t-empty.vhdx", (path) => {
      run("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=32M", path, String(8 * TiB)]);
      return { path, virtualSize: 8 * TiB, blockSize: 32 * MiB };
    });
  }

  /** 64 TiB dynamic VHDX with 32 MiB blocks: 2,097,152 payload BAT entries, nothing allocated. */
  dynamic64TiB() {
    return this.get("dynamic-64t.vhdx", (path) => {
      run("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=32M", path, String(64 * TiB)]);
      return { path, virtualSize: 64 * TiB, blockSize: 32 * MiB };
    });
  }
}

export function fileExists(p) {
  return existsSync(p);
}
