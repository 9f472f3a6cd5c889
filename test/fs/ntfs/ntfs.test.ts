/**
 * The NTFS driver against a volume made by mkntfs and filled through ntfs-3g (FUSE): nested
 * folders, a folder of thousands of files (an index of several levels), non-ASCII names, a
 * sparse file, an LZNT1-compressed folder, alternate data streams, hard links, a symlink, a
 * fragmented file and a file whose attributes need an attribute list. Every path, type and size
 * equals the tree put in and what The Sleuth Kit (fls -r -p) lists; every file's bytes equal the
 * original (and icat's); the same through a VHDX made by qemu-img.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, symlinkSync, linkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NtfsFileSystem, ntfsDriver } from "../../../src/fs/ntfs/fileSystem";
import { ENTRY_TYPES, type FileSystem, type FsEntry } from "../../../src/fs/types";
import { resolvePath } from "../../../src/fs/walk";
import { readWhole, seededBytes, SyncFileDevice, walkTree } from "../helpers";
import { useTempDir } from "../../helpers/tmp";
import { missingTools } from "../../helpers/tools";

const tmp = useTempDir("vhdx-ntfs-");
const skip = missingTools(
  "mkntfs",
  "ntfs-3g",
  "fusermount",
  "setfattr",
  "fls",
  "icat",
  "qemu-img",
  "ntfsls",
  "ntfscat",
);
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** What the tests expect: path → bytes (null: folder; string: symlink target). */
const tree = new Map<string, Buffer | null | string>();
const MANY = 2500;
const COMPRESSIBLE = Buffer.from("compress me please, I repeat myself a lot. ".repeat(12000));
const SPARSE_SIZE = 48 * 1024 * 1024;
const SPARSE_AT = 20_000_000;
let image = "";
let dev: SyncFileDevice;
let fs: NtfsFileSystem;

beforeAll(async () => {
  if (skip) return;
  image = tmp.path("ntfs.img");
  execFileSync("truncate", ["-s", "128M", image]);
  execFileSync("mkntfs", ["-q", "-F", "-Q", "-L", "NTVOL", image], { stdio: "ignore" });
  const mnt = tmp.path("mnt");
  mkdirSync(mnt);
  execFileSync("ntfs-3g", [image, mnt]);
  try {
    const put = (p: string, v: Buffer | null) => {
      if (v === null) mkdirSync(join(mnt, p), { recursive: true });
      else writeFileSync(join(mnt, p), v);
      tree.set(p, v);
    };
    put("Documents", null);
    put("Documents/report.txt", seededBytes(1, 5000));
    put("Documents/Ünïcödé — 日本語.txt", seededBytes(2, 123));
    put("Documents/empty.txt", Buffer.alloc(0));
    put("Documents/small.txt", Buffer.from("resident data\n"));
    // Two names that differ only in case (ntfs-3g writes POSIX-namespace names).
    put("Documents/Case.txt", Buffer.from("mixed\n"));
    put("Documents/CASE.txt", Buffer.from("upper\n"));
    put("Empty folder", null);
    put("Many", null);
    for (let i = 0; i < MANY; i++)
      put(`Many/file number ${String(i).padStart(5, "0")}.dat`, seededBytes(10 + i, i % 5 === 0 ? 3000 : 40));
    let deep = "Deep";
    put(deep, null);
    for (let i = 0; i < 20; i++) {
      deep += `/level ${i}`;
      put(deep, null);
    }
    put(`${deep}/leaf.bin`, seededBytes(3, 70000));
    // A hard link: two names, one record.
    linkSync(join(mnt, "Documents/report.txt"), join(mnt, "Documents/report link.txt"));
    tree.set("Documents/report link.txt", tree.get("Documents/report.txt")!);
    symlinkSync("../Documents/report.txt", join(mnt, "Empty folder/../Deep/link to report"));
    tree.set("Deep/link to report", "../Documents/report.txt");
    // Sparse: 48 MiB with three bytes written in the middle.
    execFileSync("truncate", ["-s", String(SPARSE_SIZE), join(mnt, "sparse.bin")]);
    const sparse = Buffer.alloc(SPARSE_SIZE);
    sparse.write("abc", SPARSE_AT);
    execFileSync("dd", [`of=${join(mnt, "sparse.bin")}`, "bs=1", `seek=${SPARSE_AT}`, "conv=notrunc", "status=none"], {
      input: "abc",
    });
    tree.set("sparse.bin", sparse);
    // A compressed folder: files made in it are LZNT1-compressed.
    mkdirSync(join(mnt, "Compressed"));
    tree.set("Compressed", null);
    execFileSync("setfattr", ["-n", "system.ntfs_attrib_be", "-v", "0x00000800", join(mnt, "Compressed")]);
    put("Compressed/text.txt", COMPRESSIBLE);
    put("Compressed/random.bin", seededBytes(4, 100_000));
    // An alternate data stream.
    execFileSync("setfattr", [
      "-n",
      "user.Zone.Identifier",
      "-v",
      "[ZoneTransfer]\nZoneId=3",
      join(mnt, "Documents/report.txt"),
    ]);
    // A fragmented file: fill, free every other file, then write a large one.
    mkdirSync(join(mnt, "fill"));
    for (let i = 0; i < 300; i++) writeFileSync(join(mnt, "fill", `f${i}`), seededBytes(1000 + i, 64 * 1024));
    execFileSync("sync");
    for (let i = 0; i < 300; i += 2) unlinkSync(join(mnt, "fill", `f${i}`));
    execFileSync("sync");
    put("fragmented.bin", seededBytes(5, 12 * 1024 * 1024));
    rmSync(join(mnt, "fill"), { recursive: true });
    // Many hard links to one file: its $FILE_NAMEs overflow one record into an attribute list.
    put("Links", null);
    writeFileSync(join(mnt, "Links/target.bin"), seededBytes(6, 30000));
    tree.set("Links/target.bin", seededBytes(6, 30000));
    for (let i = 0; i < 60; i++) {
      linkSync(join(mnt, "Links/target.bin"), join(mnt, `Links/a rather long hard link name number ${i}.bin`));
      tree.set(`Links/a rather long hard link name number ${i}.bin`, seededBytes(6, 30000));
    }
  } finally {
    execFileSync("fusermount", ["-u", mnt]);
  }
  dev = new SyncFileDevice(image);
  fs = await NtfsFileSystem.mount(dev);
}, 300_000);

afterAll(() => dev?.close());

function fls(img: string): Map<string, { type: string; inode: string }> {
  const out = new Map<string, { type: string; inode: string }>();
  for (const line of execFileSync("fls", ["-r", "-p", img], { encoding: "utf8", maxBuffer: 64 << 20 }).split("\n")) {
    const m = /^(\S)\/(\S)\s+(\d+-\d+-\d+):\t(.*)$/.exec(line);
    if (!m || m[4].split("/").some((p) => p.startsWith("$"))) continue;
    out.set(m[4], { type: m[2], inode: m[3] });
  }
  return out;
}

describe.skipIf(!!skip)("NTFS made by mkntfs and ntfs-3g", () => {
  it("mounts with the label mkntfs gave, clean", async () => {
    expect(ntfsDriver.probe(await dev.read(0, 65536), dev)).toBe(true);
    expect(fs.label).toBe("NTVOL");
    expect(fs.findings).toEqual([]);
  });

  it("lists every path, type and size put in, and what fls lists", async () => {
    const got = await walkTree(fs);
    for (const [p, v] of tree) {
      const e = got.get(p);
      expect(e, p).toBeDefined();
      if (v === null) expect(e!.type, p).toBe("dir");
      else if (typeof v === "string")
        expect({ type: e!.type, target: e!.target }, p).toEqual({ type: "symlink", target: v });
      else expect({ type: e!.type, size: e!.size }, p).toEqual({ type: "file", size: v.length });
    }
    expect(got.get("Documents/report.txt:Zone.Identifier")?.size).toBe("[ZoneTransfer]\nZoneId=3".length);
    expect(got.get("Documents/report.txt")!.links).toBe(2);
    const sleuth = fls(image);
    expect(new Set(got.keys())).toEqual(new Set(sleuth.keys()));
    // The Sleuth Kit lists an Interix symlink as the regular file it is stored as.
    for (const [p, e] of got) expect(e.type === "dir" ? "d" : "r", p).toBe(sleuth.get(p)!.type);
  });

  it("reads every file as it was written and as icat reads it: sparse, compressed, fragmented, streams", async () => {
    const got = await walkTree(fs);
    for (const [p, v] of tree) {
      if (!Buffer.isBuffer(v)) continue;
      expect(sha(await readWhole(fs, got.get(p)!)), p).toBe(sha(v));
    }
    const zone = await readWhole(fs, got.get("Documents/report.txt:Zone.Identifier")!);
    expect(zone.toString()).toBe("[ZoneTransfer]\nZoneId=3");
    const sleuth = fls(image);
    for (const p of ["Compressed/text.txt", "fragmented.bin", "Documents/report.txt:Zone.Identifier"]) {
      const viaIcat = execFileSync("icat", [image, sleuth.get(p)!.inode], { maxBuffer: 64 << 20 });
      expect(sha(viaIcat), p).toBe(sha(await readWhole(fs, got.get(p)!)));
    }
    // The sparse file's holes are not stored; the compressed file takes fewer clusters than its size.
    let stored = 0;
    for await (const x of fs.extents(got.get("sparse.bin")!)) if (x.deviceOffset !== null) stored += x.length;
    expect(stored).toBeLessThan(1024 * 1024);
    let encoded = 0;
    for await (const x of fs.extents(got.get("Compressed/text.txt")!)) if (x.encoded) encoded++;
    expect(encoded).toBeGreaterThan(0);
    let runs = 0;
    for await (const x of fs.extents(got.get("fragmented.bin")!)) if (x.deviceOffset !== null) runs++;
    expect(runs).toBeGreaterThan(1);
  });

  it("follows an attribute list: 61 names of one file spread over extension records", async () => {
    const got = await walkTree(fs);
    const target = got.get("Links/target.bin")!;
    const record = (target.ref as [number, string, number])[0];
    const base = await fs.mft.record(record);
    expect(base.attributes.some((a) => a.type === 0x20)).toBe(true); // $ATTRIBUTE_LIST
    expect(target.links).toBe(61);
    const names = [...got.values()].filter(
      (e) => (e.ref as [number, string, number])[0] === record && e.path.startsWith("Links/"),
    );
    expect(names).toHaveLength(61);
    expect(sha(await readWhole(fs, target))).toBe(sha(seededBytes(6, 30000)));
  });

  it("hides the metafiles unless asked", async () => {
    const names = async (f: FileSystem) => {
      const out: string[] = [];
      for await (const e of f.readDir(await f.root())) out.push(e.name);
      return out;
    };
    expect((await names(fs)).filter((n) => n.startsWith("$"))).toEqual([]);
    const all = await NtfsFileSystem.mount(dev, { system: true });
    expect(await names(all)).toEqual(expect.arrayContaining(["$MFT", "$LogFile", "$Bitmap", "$UpCase"]));
  });

  it("names owners: a file's clusters, MFT records, directory index blocks, free space", async () => {
    const got = await walkTree(fs);
    const first = (await fs.extents(got.get("fragmented.bin")!)[Symbol.asyncIterator]().next()).value!;
    expect(await fs.ownerOf(first.deviceOffset! + 7)).toMatchObject({
      kind: "file",
      path: "fragmented.bin",
      fileOffset: 7,
    });
    expect(await fs.ownerOf(fs.bs.mftLcn * fs.bs.bytesPerCluster + 5 * fs.bs.mftRecordSize)).toEqual({
      kind: "structure",
      structure: "$MFT, MFT record 5",
    });
    expect(await fs.ownerOf(0)).toEqual({ kind: "structure", structure: "boot sector" });
    // A cluster $Bitmap marks free (the bitmap read as a metafile, the way ntfs-3g left it).
    const all = await NtfsFileSystem.mount(dev, { system: true });
    let bitmapEntry: FsEntry | undefined;
    for await (const e of all.readDir(await all.root())) if (e.name === "$Bitmap") bitmapEntry = e;
    const bitmap = await readWhole(all, bitmapEntry!);
    let free = -1;
    for (let c = bitmap.length * 8 - 64; c > 0; c--) {
      if (!((bitmap[c >>> 3] >>> (c & 7)) & 1)) {
        free = c;
        break;
      }
    }
    expect(free).toBeGreaterThan(0);
    expect(await fs.ownerOf(free * fs.bs.bytesPerCluster + 1)).toEqual({ kind: "free" });
  });

  it("vhdx ls and get: the same listing, streams read through get, metafiles with --system", async () => {
    const cli = (...args: string[]) => execFileSync("node", ["bin/vhdx.cjs", ...args], { maxBuffer: 256 << 20 });
    const listed = JSON.parse(cli("ls", image, "-R", "--json").toString()) as {
      path: string;
      type: string;
      size: number;
    }[];
    const got = await walkTree(fs);
    expect(new Set(listed.map((e) => e.path))).toEqual(new Set(got.keys()));
    for (const e of listed)
      expect({ type: e.type, size: e.size }, e.path).toEqual({
        type: got.get(e.path)!.type,
        size: e.type === "dir" ? e.size : got.get(e.path)!.size,
      });
    expect(cli("get", image, "Documents/report.txt:Zone.Identifier").toString()).toBe("[ZoneTransfer]\nZoneId=3");
    expect(cli("get", image, "Documents/small.txt").toString()).toBe("resident data\n");
    expect(sha(cli("get", image, "Compressed/text.txt"))).toBe(sha(COMPRESSIBLE));
    const root = JSON.parse(cli("ls", image, "--json").toString()) as { name: string }[];
    expect(root.some((e) => e.name.startsWith("$"))).toBe(false);
    const system = JSON.parse(cli("ls", image, "--json", "--system").toString()) as { name: string }[];
    expect(system.map((e) => e.name)).toEqual(expect.arrayContaining(["$MFT", "$LogFile"]));
  });

  it("lists what ntfsls lists, and reads files as ntfscat reads them", async () => {
    const got = await walkTree(fs);
    const listed = new Map<string, { dir: boolean; size: number }>();
    let dir = "";
    const out = execFileSync("ntfsls", ["-R", "-l", "-F", image], { encoding: "utf8", maxBuffer: 64 << 20 });
    for (const line of out.split("\n")) {
      const head = /^\/(.*?)\/?:$/.exec(line);
      if (head) dir = head[1];
      const m = /^\s*(\d+) \w{3} [ \d]\d \d\d:\d\d \d{4} (.*)$/.exec(line);
      if (!m || m[2] === "./" || m[2] === "../" || m[2].startsWith("$")) continue;
      const isDir = m[2].endsWith("/");
      const name = isDir ? m[2].slice(0, -1) : m[2];
      listed.set(dir ? `${dir}/${name}` : name, { dir: isDir, size: Number(m[1]) });
    }
    // ntfsls shows neither alternate data streams nor the symlink as one (an Interix file to it).
    const ours = [...got.values()].filter((e) => !e.name.includes(":"));
    expect(new Set(listed.keys())).toEqual(new Set(ours.map((e) => e.path)));
    for (const e of ours) {
      if (e.type === "symlink") continue;
      expect({ dir: e.type === "dir", size: e.type === "dir" ? 0 : e.size }, e.path).toEqual(listed.get(e.path));
    }
    for (const p of ["Compressed/text.txt", "fragmented.bin", "Documents/Ünïcödé — 日本語.txt", "Documents/CASE.txt"]) {
      const theirs = execFileSync("ntfscat", [image, p], { maxBuffer: 64 << 20 });
      expect(sha(await readWhole(fs, got.get(p)!)), p).toBe(sha(theirs));
    }
  });

  it("lists a folder from its index alone (readDirFast) as readDir lists it, and stat makes each entry whole", async () => {
    for (const path of ["Many", "Documents", "Deep"]) {
      const dir = await resolvePath(fs, path);
      const whole = new Map<string, FsEntry>();
      for await (const e of fs.readDir(dir)) if (!e.name.includes(":")) whole.set(e.path, e);
      const fast: FsEntry[] = [];
      for await (const batch of fs.readDirFast(dir)) fast.push(...batch);
      expect(fast.map((e) => e.path)).toEqual([...whole.keys()]);
      // The same keys in columns, and each run's entry(i) as readDirFast gives it.
      const columns: FsEntry[] = [];
      for await (const c of fs.readDirColumns(dir)) {
        for (let i = 0; i < c.names.length; i++) {
          const e = c.entry(i);
          expect([c.names[i], ENTRY_TYPES[c.types[i]], c.sizes[i], c.mtimes[i]]).toEqual([
            e.name,
            e.type,
            e.size,
            e.mtime ?? NaN,
          ]);
          columns.push(e);
        }
      }
      expect(columns).toEqual(fast);
      for (const e of fast) {
        const w = whole.get(e.path)!;
        expect(e.partial).toBe(true);
        // ntfs-3g keeps the index keys' sizes current; a symlink's reparse point is read by stat.
        if (w.type !== "symlink")
          expect({ type: e.type, size: e.size }, e.path).toEqual({ type: w.type, size: w.size });
        expect(await fs.stat(e), e.path).toEqual(w);
      }
    }
  });

  it("looks names up as NTFS compares them: through $UpCase, an exact name first", async () => {
    expect((await resolvePath(fs, "DOCUMENTS/ÜNÏCÖDÉ — 日本語.TXT")).path).toBe("Documents/Ünïcödé — 日本語.txt");
    expect((await resolvePath(fs, "deep/LEVEL 0/level 1")).path).toBe("Deep/level 0/level 1");
    expect((await resolvePath(fs, "Documents/Case.txt")).path).toBe("Documents/Case.txt");
    expect((await resolvePath(fs, "Documents/CASE.txt")).path).toBe("Documents/CASE.txt");
    expect(["Documents/Case.txt", "Documents/CASE.txt"]).toContain((await resolvePath(fs, "documents/case.TXT")).path);
    await expect(resolvePath(fs, "Documents/Casex.txt")).rejects.toMatchObject({ code: "FS_NOT_FOUND" });
    const cli = execFileSync("node", ["bin/vhdx.cjs", "get", image, "documents/SMALL.TXT"]);
    expect(cli.toString()).toBe("resident data\n");
  });

  it("reads the same through a VHDX made by qemu-img", async () => {
    const { openImage } = await import("../../../src/vhdx/image");
    const { NodeFileBackend } = await import("../../../src/node/fileBackend");
    const vhdx = tmp.path("ntfs.vhdx");
    execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", image, vhdx]);
    const io = await NodeFileBackend.open(vhdx, { readOnly: true });
    const img = await openImage(io, { readOnly: true });
    try {
      const vfs = await ntfsDriver.mount({ size: img.virtualSize, read: (o, l) => img.read(o, l) });
      const got = await walkTree(vfs);
      expect(sha(await readWhole(vfs, got.get("Compressed/text.txt")!))).toBe(sha(COMPRESSIBLE));
      expect(got.size).toBe((await walkTree(fs)).size);
    } finally {
      await io.close();
    }
  });
});
