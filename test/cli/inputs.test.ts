/**
 * Inputs that are not regular files, and outputs that appear only when whole.
 * - `vhdx write --input` from a FIFO, /dev/stdin on a pipe and `<(…)`: every byte lands (QEMU reads
 *   them back); an empty input is an error, never "wrote 0 bytes".
 * - `vhdx convert` of a block device (a loop device over a raw file, physical to virtual): sized
 *   as qemu-img sizes it, bytes as qemu-img reads the result; a pipe is refused, and leaves nothing.
 * - A convert or create that fails (a full file system) or is interrupted (SIGINT) leaves no file
 *   under the output's name nor a temporary one, and the retry succeeds.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { patternBytes } from "../helpers/random";
import { missingTools, requireTool } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;
const tmp = useTempDir("vhdx-inputs-");
const isRoot = process.getuid?.() === 0;

function vhdx(args: string[], input?: Uint8Array) {
  const r = spawnSync(process.execPath, [VHDX, ...args], { input, encoding: "buffer", maxBuffer: 64 * MiB });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function ok(args: string[], input?: Uint8Array): string {
  const r = vhdx(args, input);
  if (r.status !== 0) throw new Error(`vhdx ${args.join(" ")} → ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function qemuRaw(img: string): Buffer {
  const out = `${img}.qemu.raw`;
  const r = spawnSync(requireTool("qemu-img"), ["convert", "-f", "vhdx", "-O", "raw", img, out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return readFileSync(out);
}

function sh(cmd: string): string {
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout.trim();
}

describe.skipIf(process.platform !== "linux" || missingTools("qemu-img"))("inputs that are not regular files", () => {
  it("write --input takes a FIFO, /dev/stdin on a pipe and <(…) as streams; every byte lands", async () => {
    const img = tmp.path("w.vhdx");
    ok(["create", img, "--size", "24M", "--block-size", "1M"]);
    const model = new Uint8Array(24 * MiB);

    const fifoData = patternBytes(1, 3 * MiB + 777);
    writeFileSync(tmp.path("fifo-src.bin"), fifoData);
    sh(`mkfifo ${tmp.path("in.fifo")}`);
    const feeder = spawn("sh", ["-c", `cat ${tmp.path("fifo-src.bin")} > ${tmp.path("in.fifo")}`]);
    const r1 = vhdx(["write", img, "--offset", "1000", "--input", tmp.path("in.fifo")]);
    await new Promise((res) => (feeder.exitCode !== null ? res(null) : feeder.once("exit", res)));
    expect(r1.stderr).toBe("");
    expect(r1.stdout).toMatch(new RegExp(`^wrote ${fifoData.length} bytes`));
    model.set(fifoData, 1000);

    const stdinData = patternBytes(2, 2 * MiB + 5);
    const r2 = vhdx(["write", img, "--offset", String(9 * MiB), "--input", "/dev/stdin"], stdinData);
    expect(r2.stdout).toMatch(new RegExp(`^wrote ${stdinData.length} bytes`));
    model.set(stdinData, 9 * MiB);

    const procData = patternBytes(3, MiB + 1);
    writeFileSync(tmp.path("proc-src.bin"), procData);
    if (spawnSync("bash", ["-c", "true"]).status === 0) {
      const r3 = spawnSync(
        "bash",
        [
          "-c",
          `"${process.execPath}" "${VHDX}" write "${img}" --offset ${15 * MiB} --input <(cat "${tmp.path("proc-src.bin")}")`,
        ],
        { encoding: "utf8" },
      );
      expect(r3.stdout, r3.stderr).toMatch(new RegExp(`^wrote ${procData.length} bytes`));
      model.set(procData, 15 * MiB);
    }

    expect(qemuRaw(img).equals(Buffer.from(model))).toBe(true);

    // Nothing in the input: an error, and the image is unchanged.
    const empty = vhdx(["write", img, "--offset", "0", "--input", "/dev/stdin"], new Uint8Array(0));
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/empty: nothing was written/);
    expect(qemuRaw(img).equals(Buffer.from(model))).toBe(true);
  });

  it("convert refuses a pipe before creating anything", () => {
    sh(`mkfifo ${tmp.path("conv.fifo")}`);
    const r = vhdx(["convert", tmp.path("conv.fifo"), tmp.path("from-fifo.vhdx")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is a pipe: convert needs an input whose size is known/);
    expect(readdirSync(tmp.dir).filter((n) => n.includes("from-fifo"))).toEqual([]);
  });

  it.skipIf(!isRoot || spawnSync("losetup", ["-f"]).status !== 0)(
    "convert of a block device (a loop device): sized as qemu-img sizes it, read back by qemu-img",
    () => {
      const backing = tmp.path("disk.raw");
      const raw = new Uint8Array(20 * MiB + 512 * 3);
      raw.set(patternBytes(4, 5 * MiB), MiB);
      raw.set(patternBytes(5, 4096), raw.length - 4096);
      writeFileSync(backing, raw);
      const dev = sh(`losetup -f --show ${backing}`);
      try {
        const qemuSize = JSON.parse(
          spawnSync(requireTool("qemu-img"), ["info", "-f", "raw", "--output=json", dev], { encoding: "utf8" }).stdout,
        )["virtual-size"] as number;
        expect(qemuSize).toBe(raw.length);
        const out = tmp.path("p2v.vhdx");
        ok(["convert", dev, out]);
        const info = JSON.parse(ok(["info", out, "--json"])) as { virtualSize: number };
        expect(info.virtualSize).toBe(qemuSize);
        expect(qemuRaw(out).equals(Buffer.from(raw))).toBe(true);
        // And as the input of a write.
        const img = tmp.path("from-dev.vhdx");
        ok(["create", img, "--size", String(32 * MiB)]);
        expect(ok(["write", img, "--offset", "0", "--input", dev])).toMatch(new RegExp(`^wrote ${raw.length} bytes`));
        expect(qemuRaw(img).subarray(0, raw.length).equals(Buffer.from(raw))).toBe(true);
      } finally {
        sh(`losetup -d ${dev}`);
      }
    },
  );
});

describe.skipIf(process.platform !== "linux" || missingTools("qemu-img"))("outputs appear only when whole", () => {
  it.skipIf(!isRoot)("a convert that runs out of space leaves nothing; the retry succeeds", () => {
    const mnt = tmp.path("small");
    mkdirSync(mnt);
    sh(`mount -t tmpfs -o size=6m tmpfs ${mnt}`);
    try {
      const raw = patternBytes(6, 16 * MiB);
      writeFileSync(tmp.path("big.raw"), raw);
      const out = `${mnt}/out.vhdx`;
      const r = vhdx(["convert", tmp.path("big.raw"), out]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/ENOSPC|no space/i);
      expect(readdirSync(mnt)).toEqual([]);
      sh(`mount -o remount,size=64m ${mnt}`);
      ok(["convert", tmp.path("big.raw"), out]);
      expect(readdirSync(mnt)).toEqual(["out.vhdx"]);
      expect(qemuRaw(out).equals(Buffer.from(raw))).toBe(true);
    } finally {
      sh(`umount ${mnt}`);
    }
  });

  it.skipIf(missingTools("prlimit"))(
    "a create stopped by the file size limit (EFBIG) leaves nothing; the retry succeeds",
    () => {
      const dir = tmp.path("limited");
      mkdirSync(dir);
      const out = `${dir}/fixed.vhdx`;
      const args = [VHDX, "create", out, "--size", "64M", "--type", "fixed"];
      const r = spawnSync("prlimit", ["--fsize=3000000", process.execPath, ...args], { encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/EFBIG|too large/);
      expect(readdirSync(dir)).toEqual([]);
      ok(args.slice(1));
      expect(readdirSync(dir)).toEqual(["fixed.vhdx"]);
      const check = spawnSync(requireTool("qemu-img"), ["check", "-f", "vhdx", out], { encoding: "utf8" });
      expect(check.status, check.stdout).toBe(0);
    },
  );

  it("an interrupted convert (SIGINT) leaves nothing; the retry succeeds", async () => {
    const dir = tmp.path("cancel");
    mkdirSync(dir);
    const raw = new Uint8Array(192 * MiB).fill(0x5a);
    writeFileSync(tmp.path("cancel.raw"), raw);
    const out = `${dir}/out.vhdx`;
    const c = spawn(process.execPath, [VHDX, "convert", tmp.path("cancel.raw"), out], { stdio: "pipe" });
    let stderr = "";
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // Stopped as soon as its temporary file exists, so the signal surely lands mid-way.
    const deadline = Date.now() + 30_000;
    while (readdirSync(dir).length === 0) {
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`convert never started its output: ${stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    c.kill("SIGSTOP");
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^\.out\.vhdx\.partial-/)]);
    c.kill("SIGINT");
    c.kill("SIGCONT");
    const code = await new Promise((r) => (c.exitCode !== null ? r(c.exitCode) : c.once("exit", (x) => r(x))));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\); no output was left behind/);
    expect(readdirSync(dir)).toEqual([]);
    ok(["convert", tmp.path("cancel.raw"), out]);
    expect(readdirSync(dir)).toEqual(["out.vhdx"]);
    expect(qemuRaw(out).equals(Buffer.from(raw))).toBe(true);
  });
});
