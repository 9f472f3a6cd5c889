/**
 * One writer at a time: `vhdx` processes and QEMU's tools refuse each other through QEMU's OFD
 * byte-range locks on the image (the bytes measured with strace on qemu-io and qemu-img). Each
 * holder is a real process kept open on purpose (a writer waiting for stdin, a reader whose
 * stdout nobody drains, an interactive qemu-io); the tests wait until its lock is visible in
 * /proc before the second program starts.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { patternBytes } from "../helpers/random";
import { missingTools, requireTool } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;
const tmp = useTempDir("vhdx-lock-");
const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function vhdx(args: string[], input?: Uint8Array) {
  const r = spawnSync(process.execPath, [VHDX, ...args], { input, encoding: "buffer", maxBuffer: 256 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function vhdxOk(args: string[], input?: Uint8Array): void {
  const r = vhdx(args, input);
  if (r.status !== 0) throw new Error(`vhdx ${args.join(" ")} → ${r.status}: ${r.stderr}`);
}

function exited(c: ChildProcess): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
  return new Promise((res) => c.once("exit", (code) => res(code)));
}

/** Resolves once process `pid` holds a lock on `path` (its fdinfo lists one), or rejects after 20 s. */
async function lockHeldBy(pid: number, path: string): Promise<void> {
  const ino = statSync(path).ino;
  const deadline = Date.now() + 20_000;
  for (;;) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      throw new Error(`process ${pid} is gone before it locked ${path}`);
    }
    for (const fd of fds) {
      try {
        const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8");
        if (new RegExp(`^lock:.*:${ino} `, "m").test(info)) return;
      } catch {
        // the descriptor closed meanwhile
      }
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} never locked ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function image(name: string, size = "64M"): string {
  const p = tmp.path(name);
  vhdxOk(["create", p, "--size", size, "--block-size", "1M"]);
  return p;
}

/** A `vhdx write` that has the image open for writing and waits for its input on stdin. */
async function heldWriter(img: string, offset: number): Promise<ChildProcess> {
  const c = spawn(process.execPath, [VHDX, "write", img, "--offset", String(offset)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  started.push(c);
  await lockHeldBy(c.pid!, img);
  return c;
}

/** A `vhdx cat` whose output nobody reads: it keeps the image open for reading. */
async function heldReader(img: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, [VHDX, "cat", img], { stdio: ["ignore", "pipe", "pipe"] });
  c.stdout!.pause();
  started.push(c);
  await lockHeldBy(c.pid!, img);
  return c;
}

/** An interactive qemu-io holding the image until its stdin closes. */
async function heldQemuIo(img: string, readOnly: boolean): Promise<ChildProcess> {
  const c = spawn(requireTool("qemu-io"), ["-f", "vhdx", ...(readOnly ? ["-r"] : []), img], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  started.push(c);
  await lockHeldBy(c.pid!, img);
  return c;
}

function qemuRaw(img: string): Buffer {
  const out = tmp.path(`raw-${Math.random().toString(36).slice(2)}.raw`);
  const r = spawnSync(requireTool("qemu-img"), ["convert", "-U", "-f", "vhdx", "-O", "raw", img, out]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return readFileSync(out);
}

describe.skipIf(process.platform !== "linux" || missingTools("qemu-io", "qemu-img", "perl"))(
  "one writer at a time (Linux OFD locks, as QEMU takes them)",
  () => {
    it("a second `vhdx write` is refused while the first runs, naming it; no write is lost", async () => {
      const img = image("two.vhdx");
      const a = patternBytes(1, 8 * MiB);
      const b = patternBytes(2, 8 * MiB);
      writeFileSync(tmp.path("b.bin"), b);
      const first = await heldWriter(img, 0);
      const second = vhdx(["write", img, "--offset", String(40 * MiB), "--input", tmp.path("b.bin")]);
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/in use/);
      expect(second.stderr).toContain(`vhdx write (pid ${first.pid})`);
      first.stdin!.end(a);
      expect(await exited(first)).toBe(0);
      // The refused writer changed nothing; the first one's bytes are all there; QEMU finds no error.
      const raw = qemuRaw(img);
      expect(raw.subarray(0, 8 * MiB).equals(Buffer.from(a))).toBe(true);
      expect(raw.subarray(40 * MiB, 48 * MiB).every((x) => x === 0)).toBe(true);
      const check = spawnSync(requireTool("qemu-img"), ["check", "-f", "vhdx", img], { encoding: "utf8" });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      // Once the first is done, the second goes through.
      vhdxOk(["write", img, "--offset", String(40 * MiB), "--input", tmp.path("b.bin")]);
      expect(
        qemuRaw(img)
          .subarray(40 * MiB, 48 * MiB)
          .equals(Buffer.from(b)),
      ).toBe(true);
    });

    it("readers share the image; a writer is refused while one reads, and a reader while one writes", async () => {
      const img = image("share.vhdx");
      vhdxOk(["write", img, "--offset", "0"], patternBytes(3, 4 * MiB));
      const reader = await heldReader(img);
      expect(vhdx(["info", img]).status).toBe(0);
      expect(vhdx(["check", img]).status).toBe(0);
      const w = vhdx(["write", img, "--offset", "0"], new Uint8Array(512));
      expect(w.status).toBe(1);
      expect(w.stderr).toContain(`vhdx cat (pid ${reader.pid})`);
      reader.kill("SIGKILL");
      await exited(reader);

      const writer = await heldWriter(img, 0);
      for (const args of [
        ["info", img],
        ["check", img],
        ["cat", img],
        ["map", img],
        ["log", img],
      ]) {
        const r = vhdx(args);
        expect(r.status, args.join(" ")).toBe(1);
        expect(r.stderr).toContain(`vhdx write (pid ${writer.pid})`);
      }
      const repair = vhdx(["check", img, "--repair"]);
      expect(repair.status).toBe(1);
      expect(repair.stderr).toMatch(/in use/);
      writer.stdin!.end(new Uint8Array(512));
      expect(await exited(writer)).toBe(0);
    });

    it("a running qemu-io keeps `vhdx` out: writing always, reading while qemu-io writes", async () => {
      const img = image("qemu-holds.vhdx");
      const q = await heldQemuIo(img, false);
      for (const args of [
        ["write", img, "--offset", "0"],
        ["info", img],
        ["replay", img],
      ]) {
        const r = vhdx(args, new Uint8Array(512));
        expect(r.status, args.join(" ")).toBe(1);
        expect(r.stderr).toContain(`qemu-io (pid ${q.pid})`);
      }
      q.stdin!.end("quit\n");
      await exited(q);

      const ro = await heldQemuIo(img, true);
      expect(vhdx(["info", img]).status).toBe(0);
      const r = vhdx(["write", img, "--offset", "0"], new Uint8Array(512));
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`qemu-io (pid ${ro.pid})`);
      ro.stdin!.end("quit\n");
      await exited(ro);
      vhdxOk(["write", img, "--offset", "0"], new Uint8Array(512));
    });

    it("`vhdx convert` out of an image (VHDX, VHD or raw file) qemu-io writes is refused, and leaves no output", async () => {
      // convert takes its input's lock alongside the copy: the refusal must still come, and win.
      const img = image("convert-src.vhdx");
      vhdxOk(["write", img, "--offset", "0"], patternBytes(3, 3 * MiB));
      const raw = tmp.path("convert-src.raw");
      vhdxOk(["convert", img, raw]);
      const vhd = tmp.path("convert-src.vhd");
      vhdxOk(["convert", img, vhd]);
      const qemuFormat = (p: string) => (p === raw ? "raw" : p === vhd ? "vpc" : "vhdx");
      for (const [i, [input, format]] of [
        [img, "vhdx"],
        [img, "raw"],
        [raw, "vhdx"],
        [vhd, "vhdx"],
      ].entries()) {
        const q = spawn(requireTool("qemu-io"), ["-f", qemuFormat(input), input], {
          stdio: ["pipe", "pipe", "pipe"],
        });
        started.push(q);
        await lockHeldBy(q.pid!, input);
        const before = readdirSync(tmp.path("")).sort();
        const out = tmp.path(`convert-out-${i}.${format}`);
        const r = vhdx(["convert", input, out, "--format", format]);
        expect(r.status, `${input} → ${format}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toContain(`qemu-io (pid ${q.pid})`);
        expect(readdirSync(tmp.path("")).sort()).toEqual(before);
        q.stdin!.end("quit\n");
        await exited(q);
        vhdxOk(["convert", input, out, "--format", format]);
      }
    });

    it("a running `vhdx` keeps QEMU out: qemu-io cannot write while vhdx reads, nor read while vhdx writes", async () => {
      const img = image("vhdx-holds.vhdx");
      const reader = await heldReader(img);
      const qw = spawnSync(requireTool("qemu-io"), ["-f", "vhdx", "-c", "write 0 4k", img], { encoding: "utf8" });
      expect(qw.status).not.toBe(0);
      expect(qw.stderr).toMatch(/Failed to get "write" lock/);
      const qr = spawnSync(requireTool("qemu-io"), ["-f", "vhdx", "-r", "-c", "read 0 4k", img], { encoding: "utf8" });
      expect(qr.status, qr.stderr).toBe(0);
      reader.kill("SIGKILL");
      await exited(reader);

      const writer = await heldWriter(img, 0);
      const qi = spawnSync(requireTool("qemu-img"), ["info", img], { encoding: "utf8" });
      expect(qi.status).not.toBe(0);
      expect(qi.stderr).toMatch(/Failed to get shared "write" lock/);
      const qw2 = spawnSync(requireTool("qemu-io"), ["-f", "vhdx", "-c", "write 0 4k", img], { encoding: "utf8" });
      expect(qw2.status).not.toBe(0);
      writer.stdin!.end(new Uint8Array(512));
      expect(await exited(writer)).toBe(0);
      // The lock goes with the process: a writer killed mid-way leaves nothing behind.
      const killed = await heldWriter(img, 0);
      killed.kill("SIGKILL");
      await exited(killed);
      const after = spawnSync(requireTool("qemu-io"), ["-f", "vhdx", "-c", "write 0 4k", img], { encoding: "utf8" });
      expect(after.status, after.stderr).toBe(0);
    });
  },
);
