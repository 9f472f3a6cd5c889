/**
 * A VHD (v1) opened in the worker: a dynamic disk made by qemu-img and written by qemu-io reads
 * back (virtual disk and raw file) as QEMU reads it; its structure answers agree with the file's
 * bytes; the VHDX-only methods refuse it with a clear error; and a fixed VHD holding a FAT file
 * system put there by mtools browses in the Files methods.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { methods } from "../../src/worker/methods";
import type { CallContext } from "../../src/worker/protocol";
import { ModelHandle } from "../helpers/modelHandle";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";

const ctx = (): CallContext => ({ signal: new AbortController().signal, progress: () => undefined });
const MiB = 1024 * 1024;
const tmp = useTempDir("vhdx-vhdopen-");
const skip = missingTools("qemu-img", "qemu-io", "mkfs.fat", "mcopy", "sfdisk");

let dynamic = new Uint8Array(0);
let dynamicRaw = new Uint8Array(0);
let fixed = new Uint8Array(0);

beforeAll(() => {
  if (skip) return;
  vi.stubGlobal("navigator", {});
  const d = tmp.path("d.vhd");
  execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", d, "8M"]);
  execFileSync("qemu-io", ["-f", "vpc", "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0xa7 6291456 4k", d]);
  execFileSync("qemu-img", ["convert", "-f", "vpc", "-O", "raw", d, tmp.path("d.raw")]);
  dynamic = readFileSync(d);
  dynamicRaw = readFileSync(tmp.path("d.raw"));
  // A fixed VHD: an MBR with one FAT16 partition at 1 MiB, a file put in by mcopy.
  const raw = tmp.path("f.raw");
  execFileSync("truncate", ["-s", `${24 * MiB}`, raw]);
  execFileSync("sfdisk", ["-q", raw], { input: "start=2048, type=6\n" });
  const part = tmp.path("p.img");
  execFileSync("mkfs.fat", ["-F", "16", "-n", "VHDFILES", "-C", part, String(16 * 1024)]);
  writeFileSync(tmp.path("hello.txt"), "hello from a fixed VHD\n");
  execFileSync("mcopy", ["-i", part, tmp.path("hello.txt"), "::/HELLO.TXT"]);
  execFileSync("dd", [`if=${part}`, `of=${raw}`, "bs=1M", "seek=1", "conv=notrunc", "status=none"]);
  const f = tmp.path("f.vhd");
  execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", raw, f]);
  fixed = readFileSync(f);
});

afterAll(() => vi.unstubAllGlobals());
afterEach(async () => {
  await methods.close();
});

async function openBytes(bytes: Uint8Array, name: string) {
  const handle = new ModelHandle(name, bytes);
  return methods.openDisk(ctx(), { kind: "handle", handle: handle as unknown as FileSystemFileHandle, writable: true });
}

describe.skipIf(!!skip)("a VHD opened in the worker", () => {
  it("is found by its signature and opened read-only, with the footer, header and BAT of the file", async () => {
    const r = await openBytes(dynamic, "d.vhd");
    expect(r.format).toBe("vhd");
    expect(r.readOnly).toBe(true);
    expect(r.readOnlyReason).toMatch(/VHD \(v1\).*read-only.*VHDX/);
    if (r.format !== "vhd") throw new Error("not a VHD");
    const dv = new DataView(dynamic.buffer, dynamic.byteOffset, dynamic.byteLength);
    const end = dynamic.length - 512;
    expect(r.info.diskType).toBe("dynamic");
    expect(r.info.virtualSize).toBe(Number(dv.getBigUint64(end + 48)));
    expect(r.info.footer.offset).toBe(end);
    expect(r.info.footerCopy?.matches).toBe(true);
    const ho = Number(dv.getBigUint64(end + 16));
    expect(r.info.dynamicHeader?.offset).toBe(ho);
    const tableOffset = Number(dv.getBigUint64(ho + 16));
    expect(r.info.dynamicHeader?.tableOffset).toBe(tableOffset);
    const bat = (await methods.vhdBat()).value;
    expect(bat.length).toBe(r.info.bat?.entries);
    for (let i = 0; i < bat.length; i++) expect(bat[i]).toBe(dv.getUint32(tableOffset + i * 4));
    // qemu-io wrote into blocks 0 (1 MiB) and 3 (6 MiB) of 2 MiB: exactly those are allocated.
    expect([...bat].map((e, i) => (e === 0xffffffff ? -1 : i)).filter((i) => i >= 0)).toEqual([0, 3]);
    expect((await methods.vhdInfo()).bat?.allocated).toBe(2);
  });

  it("reads the virtual disk as qemu-img does and the raw file as it is", async () => {
    await openBytes(dynamic, "d.vhd");
    const v = (await methods.read(ctx(), "virtual", MiB - 4096, 80 * 1024)).value;
    expect(Buffer.from(v).equals(Buffer.from(dynamicRaw.subarray(MiB - 4096, MiB + 76 * 1024)))).toBe(true);
    const w = (await methods.read(ctx(), "virtual", 6291456, 4096)).value;
    expect(w.every((b) => b === 0xa7)).toBe(true);
    const f = (await methods.read(ctx(), "file", dynamic.length - 600, 4096)).value;
    expect(Buffer.from(f).equals(Buffer.from(dynamic.subarray(dynamic.length - 600)))).toBe(true);
  });

  it("refuses the VHDX-only methods with a reason, and writes nothing", async () => {
    const before = Buffer.from(dynamic);
    await openBytes(dynamic, "d.vhd");
    await expect(methods.info()).rejects.toMatchObject({ code: "READ_ONLY", message: /VHD \(v1\)/ });
    await expect(methods.batWords()).rejects.toMatchObject({ code: "READ_ONLY" });
    expect(Buffer.from(dynamic).equals(before)).toBe(true);
  });

  it("browses the FAT file system of a fixed VHD in the Files methods", async () => {
    const r = await openBytes(fixed, "f.vhd");
    expect(r.info.diskType).toBe("fixed");
    const v = await methods.fsVolumes();
    expect(v.volumes).toHaveLength(1);
    expect(v.volumes[0].start).toBe(MiB);
    expect(v.volumes[0].fs?.label).toBe("VHDFILES");
    const page = await methods.fsList(ctx(), 0, "/", { key: "name", descending: false }, 0, 50);
    const names = page.entries.map((e) => e.name);
    expect(names).toContain("HELLO.TXT");
  });

  it("opens a VHDX afterwards as a VHDX", async () => {
    await openBytes(dynamic, "d.vhd");
    execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", tmp.path("x.vhdx"), "4M"]);
    const r = await openBytes(readFileSync(tmp.path("x.vhdx")), "x.vhdx");
    expect(r.format).toBe("vhdx");
    expect((await methods.info()).virtualSize).toBe(4 * MiB);
  });
});
