import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hasTool, pattern, qemuCheck, qemuInfo, qemuToRaw, run, tempDir, vhdiinfo } from "./helpers";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;

function vhdx(args: string[], input?: Uint8Array) {
  return run(process.execPath, [VHDX, ...args], input);
}

function ok(args: string[], input?: Uint8Array): string {
  const r = vhdx(args, input);
  if (r.status !== 0) throw new Error(`vhdx ${args.join(" ")} → ${r.status}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!hasTool("qemu-img"))("vhdx create / write / convert / merge", () => {
  it("creates each type with the asked sizes, as qemu-img and vhdiinfo read them", () => {
    const d = tmp.path("d.vhdx");
    ok(["create", d, "--size", "3G", "--block-size", "8M", "--log-size", "2M", "--physical-sector", "512"]);
    expect(qemuInfo(d)["virtual-size"]).toBe(3 * 1024 * MiB);
    expect(qemuInfo(d)["cluster-size"]).toBe(8 * MiB);
    expect(qemuCheck(d).status).toBe(0);
    const f = tmp.path("f.vhdx");
    ok(["create", f, "--size", "10M", "--type", "fixed", "--block-size", "1M"]);
    expect(qemuInfo(f)["virtual-size"]).toBe(10 * MiB);
    expect(qemuCheck(f).status).toBe(0);
    const l = tmp.path("l.vhdx");
    ok(["create", l, "--size", "16M", "--logical-sector", "4096"]);
    if (hasTool("vhdiinfo")) expect(vhdiinfo(l)).toMatch(/Bytes per sector\s*:\s*4096 bytes/);
    const c = tmp.path("c.vhdx");
    ok(["create", c, "--parent", f]);
    if (hasTool("vhdiinfo")) {
      const out = vhdiinfo(c);
      expect(out).toMatch(/Differential/);
      expect(out).toMatch(/\(10485760 bytes\)/);
    }
  });

  it("writes from a file and from stdin; QEMU reads the result", () => {
    const img = tmp.path("w.vhdx");
    ok(["create", img, "--size", "20M", "--block-size", "1M"]);
    const a = pattern(1, 1_500_000);
    writeFileSync(tmp.path("a.bin"), a);
    expect(ok(["write", img, "--offset", "3M", "--input", tmp.path("a.bin")])).toMatch(/wrote 1500000 bytes/);
    const b = pattern(2, 777);
    ok(["write", img, "--offset", "0x1001"], b);
    const model = new Uint8Array(20 * MiB);
    model.set(a, 3 * MiB);
    model.set(b, 0x1001);
    expect(qemuCheck(img).out).toMatch(/No errors were found/);
    qemuToRaw(img, tmp.path("w.raw"));
    expect(readFileSync(tmp.path("w.raw")).equals(Buffer.from(model))).toBe(true);
  });

  it("converts raw → VHDX → raw and merges a child", () => {
    const raw = new Uint8Array(12 * MiB);
    raw.set(pattern(3, 2 * MiB), MiB);
    writeFileSync(tmp.path("in.raw"), raw);
    ok(["convert", tmp.path("in.raw"), tmp.path("in.vhdx")]);
    ok(["convert", tmp.path("in.vhdx"), tmp.path("back.raw"), "--format", "raw"]);
    expect(readFileSync(tmp.path("back.raw")).equals(Buffer.from(raw))).toBe(true);
    ok(["create", tmp.path("kid.vhdx"), "--parent", tmp.path("in.vhdx")]);
    ok(["write", tmp.path("kid.vhdx"), "--offset", "100"], pattern(4, 5000));
    raw.set(pattern(4, 5000), 100);
    // Converting the child flattens its chain into one standalone image.
    ok(["convert", tmp.path("kid.vhdx"), tmp.path("flat.vhdx")]);
    qemuToRaw(tmp.path("flat.vhdx"), tmp.path("flat.raw"));
    expect(readFileSync(tmp.path("flat.raw")).equals(Buffer.from(raw))).toBe(true);
    // `cat` reads the child through its parent, whole and in part, and writes to neither file.
    const before = [readFileSync(tmp.path("kid.vhdx")), readFileSync(tmp.path("in.vhdx"))];
    const cat = (args: string[]) => {
      const r = spawnSync(process.execPath, [VHDX, "cat", tmp.path("kid.vhdx"), ...args], { maxBuffer: 64 * MiB });
      expect(r.status, r.stderr?.toString()).toBe(0);
      return r.stdout;
    };
    expect(cat([]).equals(Buffer.from(raw))).toBe(true);
    expect(cat(["--offset", "4000", "--length", String(MiB)]).equals(Buffer.from(raw.subarray(4000, 4000 + MiB)))).toBe(
      true,
    );
    expect(readFileSync(tmp.path("kid.vhdx")).equals(before[0])).toBe(true);
    expect(readFileSync(tmp.path("in.vhdx")).equals(before[1])).toBe(true);
    expect(ok(["merge", tmp.path("kid.vhdx")])).toMatch(/merged/);
    qemuToRaw(tmp.path("in.vhdx"), tmp.path("merged.raw"));
    expect(readFileSync(tmp.path("merged.raw")).equals(Buffer.from(raw))).toBe(true);
  });

  it("reports bad input as one line with the right exit code and leaves no file behind", () => {
    const bad = vhdx(["create", tmp.path("bad.vhdx"), "--size", "1000"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/multiple of the logical sector size/);
    expect(existsSync(tmp.path("bad.vhdx"))).toBe(false);
    const usage = vhdx(["create", tmp.path("u.vhdx"), "--size", "1M", "--block-size", "lots"]);
    expect(usage.status).toBe(2);
    const past = vhdx(["write", tmp.path("w.vhdx"), "--offset", "20M"], new Uint8Array(1));
    expect(past.status).toBe(2);
    expect(past.stderr).toMatch(/past the end/);
  });
});
