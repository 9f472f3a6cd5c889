/**
 * The exFAT driver against volumes made by mkfs.exfat and filled through exfat-fuse: every path,
 * type and size equals the tree that was put in and what The Sleuth Kit (fls -r -p) lists; every
 * file's bytes equal the original (and icat's); a fragmented file reads back whole; a file's
 * extents and `ownerOf` agree; the same through a VHDX made by qemu-img.
 */
import { resolvePath } from "../../../src/fs/walk";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExfatFileSystem, exfatDriver } from "../../../src/fs/exfat/fileSystem";
import { readWhole, SyncFileDevice, walkTree } from "../helpers";
import { useTempDir } from "../../helpers/tmp";
import { missingTools } from "../../helpers/tools";
import { bytes, makeExfat, standardTree, writeFragmented, writeTree } from "./fixture";

const tmp = useTempDir("vhdx-exfat-");
const skip = missingTools("mkfs.exfat", "mount.exfat-fuse", "losetup", "fusermount", "fls", "icat", "qemu-img");
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** fls -r -p: path → [type, inode], system entries ($…, the volume label) left out. */
function fls(image: string): Map<string, { type: string; inode: string }> {
  const out = new Map<string, { type: string; inode: string }>();
  for (const line of execFileSync("fls", ["-r", "-p", image], { encoding: "utf8", maxBuffer: 64 << 20 }).split("\n")) {
    // Deleted entries carry a "*" before the inode: the deleted filler files are not listed by us.
    const m = /^(\S)\/(\S)\s+(\d+)(?:-\d+-\d+)?:\t(.*)$/.exec(line);
    if (!m) continue;
    const path = m[4];
    if (path.split("/").some((p) => p.startsWith("$")) || path.endsWith("(Volume Label Entry)")) continue;
    out.set(path, { type: m[2], inode: m[3] });
  }
  return out;
}

const tree = standardTree(4096);
const BIG = bytes(99, 3 * 1024 * 1024 + 333);
let image = "";
let dev: SyncFileDevice;
let fs: ExfatFileSystem;

beforeAll(async () => {
  if (skip) return;
  image = tmp.path("tree.img");
  makeExfat(tmp.dir, image, 48, { label: "TESTVOL", clusterKiB: 4 }, (mnt) => {
    writeTree(mnt, tree);
    writeFragmented(mnt, "fragmented.bin", BIG, 400, 8192);
  });
  dev = new SyncFileDevice(image);
  fs = await ExfatFileSystem.mount(dev);
}, 120_000);

afterAll(() => dev?.close());

describe.skipIf(!!skip)("exFAT made by mkfs.exfat and exfat-fuse", () => {
  it("is recognised by its signature and mounts with the label and serial mkfs.exfat gave", async () => {
    const head = await dev.read(0, 65536);
    expect(exfatDriver.probe(head, dev)).toBe(true);
    expect(fs.type).toBe("exfat");
    expect(fs.label).toBe("TESTVOL");
    expect(fs.blockSize).toBe(4096);
    expect(fs.findings.filter((f) => f.severity === "error")).toEqual([]);
  });

  it("lists every path, type and size of the tree put in, as fls lists them", async () => {
    const got = await walkTree(fs);
    const ours = new Map([...got].filter(([p]) => !p.startsWith("fill/") && p !== "fill"));
    for (const [p, b] of tree) {
      const e = ours.get(p);
      expect(e, p).toBeDefined();
      expect(e!.type).toBe(b === null ? "dir" : "file");
      if (b !== null) expect(e!.size, p).toBe(b.length);
    }
    expect(ours.get("fragmented.bin")?.size).toBe(BIG.length);
    expect(ours.size).toBe(tree.size + 1);
    const sleuth = fls(image);
    expect(new Set(got.keys())).toEqual(new Set(sleuth.keys()));
    for (const [p, e] of got) expect(e.type === "dir" ? "d" : "r", p).toBe(sleuth.get(p)!.type);
  });

  it("looks names up through the up-case table, case ignored", async () => {
    expect((await resolvePath(fs, "DOCS/README.TXT")).path).toBe("docs/readme.txt");
    expect((await resolvePath(fs, "ünïcödé ÑAME — 日本語.TXT")).path).toBe("Ünïcödé ñame — 日本語.txt");
    await expect(resolvePath(fs, "docs/readme.txt.x")).rejects.toMatchObject({ code: "FS_NOT_FOUND" });
  });

  it("reads every file byte for byte, and as icat reads them", async () => {
    const got = await walkTree(fs);
    for (const [p, b] of tree) {
      if (b === null) continue;
      expect(sha(await readWhole(fs, got.get(p)!)), p).toBe(sha(b));
    }
    const frag = got.get("fragmented.bin")!;
    let runs = 0;
    for await (const x of fs.extents(frag)) if (x.deviceOffset !== null) runs++;
    expect(runs).toBeGreaterThan(1);
    expect(sha(await readWhole(fs, frag))).toBe(sha(BIG));
    const inode = fls(image).get("fragmented.bin")!.inode;
    expect(sha(execFileSync("icat", [image, inode], { maxBuffer: 64 << 20 }))).toBe(sha(BIG));
  });

  it("names each file's clusters as the file's in ownerOf, and the boot region and FAT as structures", async () => {
    const got = await walkTree(fs);
    const e = got.get("docs/readme.txt")!;
    const first = (await fs.extents(e)[Symbol.asyncIterator]().next()).value!;
    expect(await fs.ownerOf(first.deviceOffset! + 10)).toMatchObject({
      kind: "file",
      path: "docs/readme.txt",
      fileOffset: 10,
    });
    expect(await fs.ownerOf(0)).toEqual({ kind: "structure", structure: "main boot region" });
    expect(await fs.ownerOf(fs.bs.fatOffset * 512)).toEqual({ kind: "structure", structure: "FAT 1" });
    const last = fs.bs.clusterHeapOffset * 512 + (fs.bs.clusterCount - 1) * 4096;
    expect(await fs.ownerOf(last)).toEqual({ kind: "free" });
  });

  it("reads the same through a VHDX made by qemu-img", async () => {
    const { openImage } = await import("../../../src/vhdx/image");
    const { NodeFileBackend } = await import("../../../src/node/fileBackend");
    const vhdx = tmp.path("tree.vhdx");
    execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", image, vhdx]);
    const io = await NodeFileBackend.open(vhdx, { readOnly: true });
    const img = await openImage(io, { readOnly: true });
    try {
      const vfs = await exfatDriver.mount({ size: img.virtualSize, read: (o, l) => img.read(o, l) });
      const got = await walkTree(vfs);
      expect(sha(await readWhole(vfs, got.get("fragmented.bin")!))).toBe(sha(BIG));
      expect(got.size).toBe((await walkTree(fs)).size);
    } finally {
      await io.close();
    }
  });
});

describe.skipIf(!!skip)("exFAT: damaged boot regions", () => {
  it("uses the backup boot sector when the main one is damaged, and says so", async () => {
    const copy = Buffer.from(readFileSync(image));
    copy[100] ^= 0xff; // VolumeSerialNumber: only the checksum sees it
    copy.fill(0xee, 40, 44); // MustBeZero
    const p = tmp.path("damaged.img");
    writeFileSync(p, copy);
    const d = new SyncFileDevice(p);
    try {
      const vfs = await ExfatFileSystem.mount(d);
      expect(vfs.findings.map((f) => f.code)).toContain("EXFAT_BACKUP_BOOT");
      expect((await walkTree(vfs)).has("docs/readme.txt")).toBe(true);
    } finally {
      d.close();
    }
  });
});
