/**
 * The Files view's worker methods over a real disk: a FAT16 file system made by mkfs.fat and
 * filled by mcopy from a generated tree, in partition 1 of a GPT disk made by sgdisk, converted
 * to VHDX by qemu-img. Listings, paging and sorting are compared with the tree that was put in;
 * Extract (a file, and a folder as a .zip read back by Python's zipfile) with its bytes; a file's
 * located runs with the virtual disk's bytes; a differencing child marks the
 * file it changed and no other (the child made and written by the `vhdx` command: QEMU makes no VHDX
 * children).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { methods } from "../../src/worker/methods";
import type { CallContext } from "../../src/worker/protocol";
import { ModelHandle } from "../helpers/modelHandle";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";

const ctx = (): CallContext => ({ signal: new AbortController().signal, progress: () => undefined });
const MiB = 1024 * 1024;
const tmp = useTempDir("vhdx-files-");
const skip = missingTools("mkfs.fat", "mcopy", "mshowfat", "sgdisk", "qemu-img", "python3");

/** Deterministic bytes for a file. */
function content(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** The tree put into the file system: path → bytes (folders end in "/"). */
const tree = new Map<string, Buffer | null>();
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let vhdx: Uint8Array = new Uint8Array(0);
let child: Uint8Array = new Uint8Array(0);
const MANY = 1200;

beforeAll(() => {
  if (skip) return;
  vi.stubGlobal("navigator", {});
  const src = tmp.path("src");
  const put = (rel: string, data: Buffer | null) => {
    const p = join(src, rel);
    if (data === null) mkdirSync(p, { recursive: true });
    else writeFileSync(p, data);
    tree.set(rel, data);
  };
  put("docs", null);
  put("docs/readme.txt", content(1, 1000));
  put("docs/Große Datei.bin", content(2, 3 * MiB + 17));
  put("empty", null);
  put("zero.bin", Buffer.alloc(0));
  put("many", null);
  for (let i = 0; i < MANY; i++)
    put(`many/file${String(i).padStart(4, "0")}.dat`, content(100 + i, i % 7 === 0 ? 2048 : i));
  let deep = "deep";
  put(deep, null);
  for (let i = 0; i < 8; i++) {
    deep += `/level${i}`;
    put(deep, null);
  }
  put(`${deep}/bottom.txt`, content(3, 4097));
  const part = tmp.path("part.img");
  execFileSync("mkfs.fat", ["-F", "16", "-n", "FILESTEST", "-C", part, String(48 * 1024)]);
  execFileSync("mcopy", [
    "-s",
    "-i",
    part,
    ...["docs", "empty", "zero.bin", "many", "deep"].map((n) => join(src, n)),
    "::/",
  ]);
  const raw = tmp.path("disk.raw");
  execFileSync("truncate", ["-s", `${64 * MiB}`, raw]);
  execFileSync("sgdisk", ["-n", "1:2048:+48M", "-t", "1:0700", "-c", "1:data", raw]);
  execFileSync("dd", [`if=${part}`, `of=${raw}`, "bs=1M", "seek=1", "conv=notrunc", "status=none"]);
  const out = tmp.path("disk.vhdx");
  execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=1M", raw, out]);
  vhdx = readFileSync(out);
  // A child that changes the first bytes of docs/readme.txt: where it lies is found with mtools.
  const childPath = tmp.path("child.vhdx");
  // QEMU cannot make a VHDX child; the engine's own command does, as Hyper-V's checkpoints are.
  execFileSync("node", ["bin/vhdx.cjs", "create", childPath, "--parent", out]);
  const cluster = execFileSync("python3", [
    "-c",
    // Read the FAT16 BPB and root directory by hand would duplicate the driver; mshowfat prints the chain.
    "import subprocess,sys;print(subprocess.run(['mshowfat','-i',sys.argv[1],'::/docs/readme.txt'],capture_output=True,text=True).stdout)",
    part,
  ])
    .toString()
    .match(/<(\d+)/);
  expect(cluster).not.toBeNull();
  const bpb = readFileSync(part).subarray(0, 64);
  const bytesPerSector = bpb.readUInt16LE(11);
  const perCluster = bpb[13];
  const reserved = bpb.readUInt16LE(14);
  const fats = bpb[16];
  const rootEntries = bpb.readUInt16LE(17);
  const fatSectors = bpb.readUInt16LE(22);
  const dataStart = (reserved + fats * fatSectors + Math.ceil((rootEntries * 32) / bytesPerSector)) * bytesPerSector;
  const at = MiB + dataStart + (Number(cluster![1]) - 2) * perCluster * bytesPerSector;
  writeFileSync(tmp.path("patch.bin"), Buffer.alloc(512, 0x5a));
  execFileSync("node", ["bin/vhdx.cjs", "write", childPath, "--offset", String(at), "--input", tmp.path("patch.bin")]);
  child = readFileSync(childPath);
});

afterAll(() => vi.unstubAllGlobals());
afterEach(async () => {
  await methods.close();
});

async function openDisk(bytes: Uint8Array, name = "disk.vhdx"): Promise<void> {
  const handle = new ModelHandle(name, bytes);
  await methods.open(ctx(), { kind: "handle", handle: handle as unknown as FileSystemFileHandle, writable: false });
}

const NAME = { key: "name" as const, descending: false };

describe.skipIf(!!skip)("Files view worker methods over a FAT16 partition of a GPT disk", () => {
  it("lists the GPT partition with its file system, as sgdisk and mkfs.fat made them", async () => {
    await openDisk(vhdx);
    const v = await methods.fsVolumes();
    expect(v.volumes).toHaveLength(1);
    const p = v.volumes[0];
    expect(p.number).toBe(1);
    expect(p.scheme).toBe("gpt");
    expect(p.start).toBe(MiB);
    expect(p.size).toBe(48 * MiB);
    expect(p.name).toBe("data");
    expect(p.fs?.type).toBe("fat16");
    expect(p.fs?.label).toBe("FILESTEST");
  });

  it("lists the root and a folder of 1200 entries page by page, in the order asked", async () => {
    await openDisk(vhdx);
    const root = await methods.fsList(ctx(), 0, "", NAME, 0, 100);
    expect(root.entries.map((e) => `${e.name}:${e.type}`).sort()).toEqual(
      ["deep:dir", "docs:dir", "empty:dir", "many:dir", "zero.bin:file"].sort(),
    );
    const names: string[] = [];
    for (let start = 0; ; start += 500) {
      const page = await methods.fsList(ctx(), 0, "many", NAME, start, 500);
      expect(page.total).toBe(MANY);
      names.push(...page.entries.map((e) => e.name));
      for (const e of page.entries) expect(e.size).toBe(tree.get(`many/${e.name}`)!.length);
      if (start + 500 >= page.total) break;
    }
    expect(names).toEqual(
      [...tree.keys()]
        .filter((k) => k.startsWith("many/"))
        .map((k) => k.slice(5))
        .sort(),
    );
    const bySize = await methods.fsList(ctx(), 0, "many", { key: "size", descending: true }, 0, MANY);
    const sizes = bySize.entries.map((e) => e.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  });

  it("extracts a file byte for byte to a picked file", async () => {
    await openDisk(vhdx);
    const out = new ModelHandle("out.bin", new Uint8Array([1, 2, 3]));
    const r = await methods.fsExtract(ctx(), 0, "docs/Große Datei.bin", {
      kind: "handle",
      handle: out as unknown as FileSystemFileHandle,
    });
    expect(r.bytes).toBe(3 * MiB + 17);
    expect(sha(out.bytes)).toBe(sha(tree.get("docs/Große Datei.bin")!));
  });

  it("extracts a folder as a zip that Python's zipfile reads back as the tree", async () => {
    await openDisk(vhdx);
    const r = await methods.fsExtract(ctx(), 0, "", { kind: "download" });
    const zipPath = tmp.path("all.zip");
    writeFileSync(zipPath, new Uint8Array(await r.blob!.arrayBuffer()));
    const listing = JSON.parse(
      execFileSync("python3", [
        "-c",
        "import zipfile,sys,json,hashlib;z=zipfile.ZipFile(sys.argv[1]);print(json.dumps({i.filename:(None if i.is_dir() else hashlib.sha256(z.read(i)).hexdigest()) for i in z.infolist()}))",
        zipPath,
      ]).toString(),
    ) as Record<string, string | null>;
    const expected: Record<string, string | null> = {};
    for (const [k, v] of tree) expected[v === null ? `${k}/` : k] = v === null ? null : sha(v);
    expect(listing).toEqual(expected);
    expect(r.files).toBe([...tree.values()].filter((v) => v !== null).length);
  });

  it("locates a file on the virtual disk: its runs hold its bytes, and the owner of its first byte is the file", async () => {
    await openDisk(vhdx);
    const loc = await methods.fsLocate(ctx(), 0, "docs/Große Datei.bin");
    const want = tree.get("docs/Große Datei.bin")!;
    let covered = 0;
    for (const r of loc.runs) {
      const bytes = (
        await methods.read(ctx(), "virtual", r.start, Math.min(r.end - r.start, want.length - r.fileOffset))
      ).value;
      expect(sha(bytes)).toBe(sha(want.subarray(r.fileOffset, r.fileOffset + bytes.length)));
      covered += bytes.length;
    }
    expect(covered).toBe(want.length);
    const owner = await methods.fsOwner(ctx(), loc.firstByte! + 5);
    expect(owner).toMatchObject({
      kind: "volume",
      owner: { kind: "file", path: "docs/Große Datei.bin", fileOffset: 5 },
    });
    expect(await methods.fsOwner(ctx(), 100)).toEqual({ kind: "outside" });
  });

  it("marks the file a differencing child changed, and only that one", async () => {
    const parent = new ModelHandle("disk.vhdx", vhdx);
    const handle = new ModelHandle("child.vhdx", child);
    await methods.open(ctx(), { kind: "handle", handle: handle as unknown as FileSystemFileHandle, writable: false });
    await methods.attachChain(ctx(), {
      kind: "files",
      files: [{ kind: "handle", handle: parent as unknown as FileSystemFileHandle }],
    });
    const page = await methods.fsList(ctx(), 0, "docs", NAME, 0, 10);
    const flags = await methods.fsLayerChanges(ctx(), 0, "docs", NAME, 0, 10);
    const byName = Object.fromEntries(page.entries.map((e, i) => [e.name, flags[i]]));
    expect(byName).toEqual({ "readme.txt": true, "Große Datei.bin": false });
    const read = await methods.fsExtract(ctx(), 0, "docs/readme.txt", { kind: "download" });
    const bytes = new Uint8Array(await read.blob!.arrayBuffer());
    expect(Array.from(bytes.subarray(0, 512)).every((b) => b === 0x5a)).toBe(true);
    expect(sha(bytes.subarray(512))).toBe(sha(tree.get("docs/readme.txt")!.subarray(512)));
  });
});
