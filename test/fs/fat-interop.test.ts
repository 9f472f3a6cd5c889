/**
 * The FAT driver and the partition layer against the tools that made the fixtures and against
 * The Sleuth Kit: mkfs.fat + mcopy volumes in GPT (sgdisk), MBR with logical partitions (sfdisk)
 * and whole disks, converted with qemu-img. Every path, type, size and time equals the tree that
 * was put in and what fls lists; every file's bytes equal the original and what icat reads; the
 * `vhdx` command agrees, through VHDX, a differencing child, and raw input.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryDevice } from "../../src/fs/device";
import { FatFileSystem } from "../../src/fs/fat/fileSystem";
import { listVolumes, volumeDevice } from "../../src/fs/partitions/volumes";
import { mount } from "../../src/fs/registry";
import type { BlockDevice, FileSystem, FsEntry } from "../../src/fs/types";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { payloadEntryIndex } from "../../src/vhdx/bat";
import { MiB } from "../../src/vhdx/bytes";
import { openImage, type VhdxImage } from "../../src/vhdx/image";
import { serializeLogEntry } from "../../src/vhdx/log";
import { withHeader } from "../helpers/buildImage";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";
import { FAT_TOOLS, fatFixtures, icat, sha256, tskList, type Disk, type Fixtures, type TreeEntry } from "./fatFixtures";

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "vhdx.cjs");
const skip = missingTools(...FAT_TOOLS);

function vhdx(...args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, VHDX_DEBUG: "" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

async function openVhdx(path: string): Promise<{ img: VhdxImage; device: BlockDevice }> {
  const img = await openImage(await NodeFileBackend.open(path, { readOnly: true }), { readOnly: true });
  return { img, device: { size: img.virtualSize, read: (o, l) => img.read(o, l) } };
}

async function walk(fs: FileSystem): Promise<FsEntry[]> {
  const out: FsEntry[] = [];
  const stack = [await fs.root()];
  while (stack.length > 0) {
    for await (const e of fs.readDir(stack.pop()!)) {
      out.push(e);
      if (e.type === "dir") stack.push(e);
    }
  }
  return out;
}

const shape = (entries: { path: string; type: string; size?: number }[]) =>
  entries.map((e) => `${e.type} ${e.type === "file" ? e.size : 0} ${e.path}`).sort();
const treeShape = (t: TreeEntry[]) =>
  shape(t.map((e) => ({ path: e.path, type: e.type, size: e.content?.length ?? 0 })));

describe.skipIf(skip)("FAT volumes made by mkfs.fat and mcopy, read as The Sleuth Kit reads them", () => {
  let fx: Fixtures;
  const opened: VhdxImage[] = [];
  beforeAll(() => {
    fx = fatFixtures();
  }, 300_000);
  afterAll(async () => {
    for (const i of opened) await i.close();
  });

  const disk = (name: string): Disk => fx.disks.find((d) => d.name === name)!;

  for (const name of ["whole", "gpt", "mbr"]) {
    it(`${name}: the volumes are the ones sgdisk/sfdisk made, each file system is the tree put in and what fls lists`, async () => {
      const d = disk(name);
      const { img, device } = await openVhdx(d.vhdx);
      opened.push(img);
      const t = await listVolumes(device, 512);
      expect(t.scheme).toBe(d.scheme);
      expect(t.findings).toEqual([]);
      expect(t.volumes.map((v) => [v.number, v.start, v.size, v.fileSystem])).toEqual(
        d.partitions.map((p) => [p.number, p.startSector * 512, p.sectors * 512, p.volume ? "fat" : null]),
      );
      if (d.scheme === "gpt") expect(t.volumes.map((v) => v.label)).toEqual(["fat16 part", "small"]);
      if (d.scheme === "mbr") expect(t.volumes.find((v) => v.number === 2)!.extended).toBe(true);
      for (const p of d.partitions) {
        if (!p.volume) continue;
        const v = t.volumes.find((x) => x.number === p.number)!;
        const fs = await mount(volumeDevice(device, v));
        expect(fs.type).toBe(`fat${p.volume.type}`);
        expect(fs.label).toBe(`VOL${p.volume.type}`);
        expect(fs.uuid).toBe(`1234-AB${p.volume.type}`);
        expect(fs.findings).toEqual([]);
        const entries = await walk(fs);
        expect(shape(entries)).toEqual(treeShape(p.volume.tree));
        const tsk = tskList(d.raw, p.startSector);
        expect(shape(entries)).toEqual(shape([...tsk].map(([path, x]) => ({ path, type: x.type, size: x.size }))));
        // FAT keeps local time; fls (TZ=UTC) prints the same fields.
        for (const e of entries)
          if (e.type === "file")
            expect(new Date(e.mtime!).toISOString().slice(0, 19).replace("T", " "), e.path).toBe(
              tsk.get(e.path)!.mtime.slice(0, 19),
            );
        // Every file's bytes, through read() and through extents(), equal the original.
        const byPath = new Map(p.volume.tree.map((x) => [x.path, x]));
        const dev = volumeDevice(device, v);
        for (const e of entries) {
          if (e.type !== "file") continue;
          const want = byPath.get(e.path)!.content!;
          expect(sha256(await fs.read(e, 0, e.size)), e.path).toBe(sha256(want));
          const parts: Uint8Array[] = [];
          for await (const x of fs.extents(e)) parts.push(await dev.read(x.deviceOffset!, x.length));
          expect(sha256(Buffer.concat(parts)), e.path).toBe(sha256(want));
        }
        // The fragmented file really is fragmented, and icat reads what we read.
        const big = entries.find((e) => e.path === "frag/BIG.BIN")!;
        const runs = [];
        for await (const x of fs.extents(big)) runs.push(x);
        expect(runs.length).toBeGreaterThan(3);
        for (const e of entries
          .filter((x) => x.type === "file" && /^(frag|sizes|names)\//.test(x.path) && x.size > 0)
          .slice(0, 12))
          expect(sha256(icat(d.raw, p.startSector, tsk.get(e.path)!.inode)), e.path).toBe(
            sha256(byPath.get(e.path)!.content!),
          );
      }
    }, 120_000);
  }

  it("ownerOf names the file, the directory, the FATs, the boot sector and free space", async () => {
    const v = fx.volumes[16];
    const fs = await FatFileSystem.mount(new MemoryDevice(new Uint8Array(readFileSync(v.image))));
    const entries = await walk(fs);
    const big = entries.find((e) => e.path === "frag/BIG.BIN")!;
    for await (const x of fs.extents(big)) {
      const o = await fs.ownerOf(x.deviceOffset! + 5);
      expect(o).toMatchObject({ kind: "file", path: "frag/BIG.BIN", fileOffset: x.fileOffset + 5 });
    }
    expect(await fs.ownerOf(0)).toEqual({ kind: "structure", structure: "boot sector" });
    expect(await fs.ownerOf(fs.bs.reservedSectors * 512)).toEqual({ kind: "structure", structure: "FAT 1" });
    expect(await fs.ownerOf((fs.bs.reservedSectors + fs.bs.fatSize) * 512)).toEqual({
      kind: "structure",
      structure: "FAT 2",
    });
    expect(await fs.ownerOf(fs.bs.firstDataSector * 512 - 1)).toMatchObject({
      kind: "structure",
      structure: "root directory",
    });
    expect(await fs.ownerOf(fs.size - 1)).toEqual({ kind: "free" });
  });

  it("a second FAT that disagrees is a finding; reading goes on from the first", async () => {
    const bytes = new Uint8Array(readFileSync(fx.volumes[16].image));
    const probe = await FatFileSystem.mount(new MemoryDevice(bytes));
    const fat2 = (probe.bs.reservedSectors + probe.bs.fatSize) * 512;
    bytes[fat2 + 100] ^= 0xff;
    const fs = await FatFileSystem.mount(new MemoryDevice(bytes));
    expect(fs.findings.map((f) => [f.code, f.structure, f.offset])).toEqual([
      ["FAT_COPIES_DIFFER", "FAT 2", fat2 + 100],
    ]);
    expect(shape(await walk(fs))).toEqual(treeShape(fx.volumes[16].tree));
  });

  it("a damaged primary GPT gives way to the backup, with a finding", async () => {
    const raw = new Uint8Array(readFileSync(disk("gpt").raw));
    const intact = await listVolumes(new MemoryDevice(raw), 512);
    raw[512 + 40] ^= 1; // inside the primary header: its CRC32 no longer matches
    const t = await listVolumes(new MemoryDevice(raw), 512);
    expect(t.gptSource).toBe("backup");
    expect(t.findings.map((f) => f.code)).toEqual(["GPT_PRIMARY_DAMAGED"]);
    expect(t.volumes).toEqual(intact.volumes);
    raw[512 + 40] ^= 1;
    raw[2 * 512 + 3] ^= 1; // the primary entry array
    const t2 = await listVolumes(new MemoryDevice(raw), 512);
    expect([t2.gptSource, t2.findings.map((f) => f.code)]).toEqual(["backup", ["GPT_PRIMARY_DAMAGED"]]);
    expect(t2.volumes).toEqual(intact.volumes);
  });

  describe("the vhdx command", () => {
    const tmp = useTempDir("vhdx-fat-cli-");
    const lsJson = (...args: string[]) => {
      const r = vhdx("ls", "-R", "--json", ...args);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout.toString()) as {
        path: string;
        name: string;
        type: string;
        size: number;
        mtime: string;
      }[];
    };

    it("ls -R --json lists the tree of each partition, of the whole disk, and of a raw disk", () => {
      expect(shape(lsJson(disk("whole").vhdx))).toEqual(treeShape(fx.volumes[32].tree));
      expect(shape(lsJson(disk("gpt").vhdx, "--partition", "2"))).toEqual(treeShape(fx.volumes[12].tree));
      expect(shape(lsJson(disk("mbr").raw, "--partition", "5"))).toEqual(treeShape(fx.volumes[16].tree));
      const one = lsJson(disk("whole").vhdx, "names")[0];
      expect(Object.keys(one)).toEqual(["path", "name", "type", "size", "mtime"]);
      expect(one.mtime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    });

    it("get streams each file byte for byte, to stdout or to a new file", () => {
      const tree = new Map(fx.volumes[32].tree.map((e) => [e.path, e]));
      for (const path of [
        "frag/BIG.BIN",
        "names/日本語のファイル.txt",
        "level 01/level 02/level 03/level 04/level 05/level 06/level 07/level 08/level 09/level 10/level 11/level 12/level 13/level 14/level 15/level 16/level 17/level 18/level 19/level 20/leaf file.txt",
        "empty file.txt",
      ]) {
        const r = vhdx("get", disk("mbr").vhdx, path, "--partition", "6");
        expect(r.code, r.stderr).toBe(0);
        expect(sha256(r.stdout), path).toBe(sha256(tree.get(path)!.content!));
      }
      const out = tmp.path("big.bin");
      const r = vhdx("get", disk("whole").vhdx, "/frag/BIG.BIN", "--output", out);
      expect(r.code, r.stderr).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(tree.get("frag/BIG.BIN")!.content!));
      writeFileSync(tmp.path("keep.bin"), "mine");
      const again = vhdx("get", disk("whole").vhdx, "frag/BIG.BIN", "--output", tmp.path("keep.bin"));
      expect(again.code).toBe(2);
      expect(readFileSync(tmp.path("keep.bin"), "utf8")).toBe("mine");
    });

    it("looks paths up without regard to case, as FAT compares names (long and 8.3)", () => {
      const tree = new Map(fx.volumes[32].tree.map((e) => [e.path, e]));
      for (const [asked, path] of [
        ["FRAG/big.bin", "frag/BIG.BIN"],
        ["NAMES/DOSSIER ÉTÉ/ÇA VA.TXT", "names/dossier été/ça va.txt"],
        ["Low/F7.TXT", "low/f7.txt"],
      ]) {
        const r = vhdx("get", disk("whole").vhdx, asked);
        expect(r.code, r.stderr).toBe(0);
        expect(sha256(r.stdout), asked).toBe(sha256(tree.get(path)!.content!));
      }
    });

    it("asks for --partition when a disk holds more than one file system, and names a missing path", () => {
      const r = vhdx("ls", disk("gpt").vhdx);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--partition/);
      expect(r.stderr).toMatch(/fat16 part/);
      const missing = vhdx("get", disk("whole").vhdx, "names/nope.txt");
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim().split("\n")).toHaveLength(1);
      expect(missing.stderr).toMatch(/names\/nope\.txt/);
      expect(vhdx("ls", disk("gpt").vhdx, "--partition", "9").code).toBe(1);
    });

    it("partitions --json lists numbers, starts, types and file systems", () => {
      const r = vhdx("partitions", "--json", disk("mbr").vhdx);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout.toString()) as {
        scheme: string;
        volumes: { number: number; type: string; fs: { type: string } | null }[];
      };
      expect(j.scheme).toBe("mbr");
      expect(j.volumes.map((v) => [v.number, v.type, v.fs?.type ?? null])).toEqual([
        [1, "0x01", "fat12"],
        [2, "0x05", null],
        [5, "0x06", "fat16"],
        [6, "0x0c", "fat32"],
      ]);
    });

    it("reads a VHDX whose log awaits replay as replayed, and writes nothing", async () => {
      // A log entry that renames EMPTYDIR to REPLAYED in the root directory's sector.
      const path = tmp.path("dirty.vhdx");
      copyFileSync(disk("whole").vhdx, path);
      const virtual = new Uint8Array(readFileSync(disk("whole").raw));
      const name = new TextEncoder().encode("EMPTYDIR   ");
      let v = -1;
      for (let at = 0; at + 32 <= virtual.length && v < 0; at += 32)
        if (virtual[at + 11] === 0x10 && name.every((c, i) => virtual[at + i] === c)) v = at;
      expect(v).toBeGreaterThan(0);
      const { img } = await openVhdx(path);
      const block = Math.floor(v / img.blockSize);
      const fileOffset = img.bat.fileOffsetMB(payloadEntryIndex(img.geometry, block)) * MiB + (v % img.blockSize);
      const logOffset = img.info().log.offset;
      await img.close();
      const bytes = new Uint8Array(readFileSync(path));
      const sectorAt = fileOffset - (fileOffset % 4096);
      const sector = bytes.slice(sectorAt, sectorAt + 4096);
      sector.set(new TextEncoder().encode("REPLAYED   "), fileOffset - sectorAt);
      const logGuid = "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a";
      const entry = serializeLogEntry({
        tail: 0,
        sequenceNumber: 5n,
        logGuid,
        flushedFileOffset: bytes.length,
        lastFileOffset: bytes.length,
        updates: [{ kind: "data", fileOffset: sectorAt, data: sector }],
      });
      bytes.set(entry, logOffset);
      withHeader(bytes, 0, { logGuid });
      withHeader(bytes, 1, { logGuid });
      writeFileSync(path, bytes);
      const before = sha256(readFileSync(path));
      const names = lsJson(path).map((e) => e.path);
      expect(names).toContain("REPLAYED");
      expect(names).not.toContain("EMPTYDIR");
      expect(sha256(readFileSync(path))).toBe(before);
    });

    it("reads through a differencing child as cat does", () => {
      const child = tmp.path("child.vhdx");
      const parent = tmp.path("parent.vhdx");
      copyFileSync(disk("whole").vhdx, parent);
      const made = vhdx("create", child, "--parent", parent);
      expect(made.code, made.stderr).toBe(0);
      expect(existsSync(child)).toBe(true);
      expect(shape(lsJson(child))).toEqual(treeShape(fx.volumes[32].tree));
    });
  });
});
