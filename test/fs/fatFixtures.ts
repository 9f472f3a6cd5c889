/**
 * FAT fixtures made by the format's own tools: a directory tree generated here, put into FAT12,
 * FAT16 and FAT32 volumes with mkfs.fat and `mcopy -s` (mtools), laid into a GPT disk (sgdisk),
 * an MBR disk with logical partitions (sfdisk) and a whole disk, each converted to VHDX with
 * qemu-img. Built once per test run into one temporary folder, shared by the test files, and
 * removed when the run ends (test/global-setup.ts).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { run, runOk } from "../helpers/run";

export const FAT_TOOLS = ["mkfs.fat", "mcopy", "mdel", "sgdisk", "sfdisk", "fls", "icat", "qemu-img"];

export interface TreeEntry {
  path: string;
  type: "file" | "dir";
  /** Files only. */
  content?: Uint8Array;
}

const env = { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8", MTOOLS_SKIP_CHECK: "1", TZ: "UTC" };

/** Deterministic bytes (xorshift), so a fixture is the same on every run. */
export function pseudoRandom(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

/**
 * Long names only: mtools keeps a name that fits 8.3 as a short name in its own OEM code page
 * (850), which neither the reader nor The Sleuth Kit can know, and it cannot write UTF-16
 * surrogate pairs (it drops them).
 */
const LONG_NAMES = [
  "ünïcødé name.txt",
  "日本語のファイル.txt",
  "Ωmega ∑ name.txt",
  "MixedCase.Txt",
  "a very long file name that goes well past thirteen characters.data",
  "lower.txt",
  "UPPER.TXT",
  "dotted.name.tar.gz",
];

/**
 * The tree: `many` entries of 8.3 names in one directory (upper case) and a hundred lower-case
 * 8.3 names (the NT case flags), 20 levels of nesting, long and non-ASCII names, empty files
 * and folders, sizes around the cluster size. `fragment` adds the pieces the fragmented file is
 * made from (see buildVolume).
 */
export function makeTree(clusterBytes: number, many: number): TreeEntry[] {
  const t: TreeEntry[] = [];
  const dir = (path: string) => t.push({ path, type: "dir" });
  const file = (path: string, content: Uint8Array) => t.push({ path, type: "file", content });
  dir("MANY");
  for (let i = 0; i < many; i++)
    file(`MANY/F${String(i).padStart(5, "0")}.TXT`, i % 97 === 0 ? pseudoRandom(i % 300, i + 1) : new Uint8Array(0));
  dir("low");
  for (let i = 0; i < 100; i++) file(`low/f${i}.txt`, new TextEncoder().encode(`${i}\n`));
  let p = "";
  for (let i = 1; i <= 20; i++) {
    p += `${p ? "/" : ""}level ${String(i).padStart(2, "0")}`;
    dir(p);
  }
  file(`${p}/leaf file.txt`, new TextEncoder().encode("the bottom\n"));
  dir("names");
  LONG_NAMES.forEach((n, i) => file(`names/${n}`, pseudoRandom(100 + i, 7 + i)));
  dir("names/dossier été");
  file("names/dossier été/ça va.txt", new TextEncoder().encode("ça va\n"));
  file("empty file.txt", new Uint8Array(0));
  dir("empty dir");
  dir("EMPTYDIR");
  dir("sizes");
  const c = clusterBytes;
  for (const n of [1, c - 1, c, c + 1, 2 * c - 1, 2 * c, 2 * c + 1, 10 * c + 17])
    file(`sizes/size-${n}.bin`, pseudoRandom(n, n));
  return t;
}

export interface Volume {
  type: 12 | 16 | 32;
  image: string;
  bytes: number;
  clusterBytes: number;
  tree: TreeEntry[];
}

/** The pieces of the fragmented file: written, every other one deleted, then the big file written into the gaps. */
const FRAG_PIECES = 24;

/** A FAT volume image file populated from the tree; returns the tree it holds (fragment pieces and big file included). */
function buildVolume(dir: string, type: 12 | 16 | 32, sizeMiB: number, clusterSectors: number, many: number): Volume {
  const clusterBytes = clusterSectors * 512;
  const image = join(dir, `fat${type}.img`);
  const src = join(dir, `tree${type}`);
  runOk("truncate", ["-s", `${sizeMiB}M`, image]);
  runOk(
    "mkfs.fat",
    ["-F", String(type), "-s", String(clusterSectors), "-n", `VOL${type}`, "-i", `1234ab${type}`, image],
    { env },
  );
  const tree = makeTree(clusterBytes, many);
  for (const e of tree) {
    const p = join(src, e.path);
    if (e.type === "dir") mkdirSync(p, { recursive: true });
    else {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, e.content!);
    }
  }
  // The fragmented file: pieces of two clusters each first, at the start of the free space.
  const frag = join(dir, `frag${type}`);
  mkdirSync(frag, { recursive: true });
  runOk("mmd", ["-i", image, "::/frag"], { env });
  const pieces: string[] = [];
  for (let i = 0; i < FRAG_PIECES; i++) {
    const name = `P${String(i).padStart(3, "0")}.BIN`;
    writeFileSync(join(frag, name), pseudoRandom(2 * clusterBytes, 1000 + i));
    pieces.push(name);
  }
  runOk("mcopy", ["-i", image, ...pieces.map((n) => join(frag, n)), "::/frag/"], { env });
  // The rest of the free space is taken by a filler first, so the big file can only go into the
  // gaps (mtools on FAT32 would otherwise start after the last allocation); the filler is deleted after.
  const free = Number(
    /([\d ]+) bytes free/.exec(runOk("mdir", ["-i", image, "::/"], { env }).stdout)![1].replace(/ /g, ""),
  );
  runOk("truncate", ["-s", String(free - 2 * clusterBytes), join(frag, "FILLER.BIN")]);
  runOk("mcopy", ["-i", image, join(frag, "FILLER.BIN"), "::/"], { env });
  runOk("mdel", ["-i", image, ...pieces.filter((_, i) => i % 2 === 1).map((n) => `::/frag/${n}`)], { env });
  const big = pseudoRandom(FRAG_PIECES * clusterBytes + 333, 4242);
  writeFileSync(join(frag, "BIG.BIN"), big);
  runOk("mcopy", ["-i", image, join(frag, "BIG.BIN"), "::/frag/"], { env });
  runOk("mdel", ["-i", image, "::/FILLER.BIN"], { env });
  tree.push({ path: "frag", type: "dir" });
  pieces.forEach((n, i) => {
    if (i % 2 === 0) tree.push({ path: `frag/${n}`, type: "file", content: pseudoRandom(2 * clusterBytes, 1000 + i) });
  });
  tree.push({ path: "frag/BIG.BIN", type: "file", content: big });
  // Then the generated tree, recursively.
  runOk("sh", ["-c", `cd "${src}" && mcopy -s -m -i "${image}" * ::/`], { env });
  return { type, image, bytes: sizeMiB * 1024 * 1024, clusterBytes, tree };
}

export interface Partition {
  /** Linux's number (sfdisk). */
  number: number;
  startSector: number;
  sectors: number;
  volume: Volume | null;
}

export interface Disk {
  name: string;
  raw: string;
  vhdx: string;
  scheme: "gpt" | "mbr" | "none";
  partitions: Partition[];
}

export interface Fixtures {
  dir: string;
  volumes: Record<12 | 16 | 32, Volume>;
  disks: Disk[];
}

function copyInto(disk: string, image: string, startSector: number): void {
  runOk("dd", [`if=${image}`, `of=${disk}`, "bs=512", `seek=${startSector}`, "conv=notrunc,sparse", "status=none"]);
}

interface SfdiskJson {
  partitiontable: { partitions: { node: string; start: number; size: number; type: string }[] };
}

function layout(disk: string): { number: number; start: number; size: number }[] {
  const j = JSON.parse(runOk("sfdisk", ["--json", disk]).stdout) as SfdiskJson;
  return j.partitiontable.partitions.map((p) => ({
    number: Number(/(\d+)$/.exec(p.node)![1]),
    start: p.start,
    size: p.size,
  }));
}

function toVhdx(raw: string): string {
  const out = raw.replace(/\.raw$/, ".vhdx");
  runOk("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", raw, out]);
  return out;
}

const VERSION = createHash("sha256")
  .update(readFileSync(new URL(import.meta.url)))
  .digest("hex")
  .slice(0, 12);

const PREFIX = `vhdx-fat-fixtures-${VERSION}-`;

/** Folders of earlier runs whose process has ended. */
function removeStale(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = name.startsWith("vhdx-fat-fixtures-") ? /-(\d+)$/.exec(name) : null;
    if (!m || Number(m[1]) === process.ppid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/**
 * Builds the fixtures once per run (keyed by the test runner's process); test files of the run
 * that ask meanwhile wait for the one building them.
 */
export function fatFixtures(): Fixtures {
  const root = join(tmpdir(), `${PREFIX}${process.ppid}`);
  const manifest = join(root, "fixtures.json");
  const lock = `${root}.lock`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8"), reviver) as Fixtures;
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`waited 300 s for ${manifest}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  removeStale();
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const dir = root;
  try {
    const volumes = {
      12: buildVolume(dir, 12, 3, 2, 40),
      16: buildVolume(dir, 16, 16, 4, 3000),
      32: buildVolume(dir, 32, 40, 1, 3000),
    } as Record<12 | 16 | 32, Volume>;
    const disks: Disk[] = [];
    // The whole disk: FAT32 from offset 0.
    const whole = join(dir, "whole.raw");
    runOk("cp", ["--sparse=always", volumes[32].image, whole]);
    disks.push({
      name: "whole",
      raw: whole,
      vhdx: toVhdx(whole),
      scheme: "none",
      partitions: [{ number: 0, startSector: 0, sectors: volumes[32].bytes / 512, volume: volumes[32] }],
    });
    // GPT: FAT16 and FAT12.
    const gpt = join(dir, "gpt.raw");
    runOk("truncate", ["-s", "24M", gpt]);
    runOk("sgdisk", [
      "-n",
      "1:2048:+16M",
      "-t",
      "1:0700",
      "-c",
      "1:fat16 part",
      "-n",
      "2:0:+3M",
      "-t",
      "2:0700",
      "-c",
      "2:small",
      gpt,
    ]);
    const gl = layout(gpt);
    copyInto(gpt, volumes[16].image, gl[0].start);
    copyInto(gpt, volumes[12].image, gl[1].start);
    disks.push({
      name: "gpt",
      raw: gpt,
      vhdx: toVhdx(gpt),
      scheme: "gpt",
      partitions: [
        { number: 1, startSector: gl[0].start, sectors: gl[0].size, volume: volumes[16] },
        { number: 2, startSector: gl[1].start, sectors: gl[1].size, volume: volumes[12] },
      ],
    });
    // MBR: a primary FAT12, an extended partition, logical FAT16 and FAT32.
    const mbr = join(dir, "mbr.raw");
    runOk("truncate", ["-s", "72M", mbr]);
    const script = `label: dos\nunit: sectors\n\nstart=2048, size=6144, type=1\nstart=8192, type=5\nsize=32768, type=6\nsize=81920, type=c\n`;
    runOk("sh", ["-c", `sfdisk --quiet "${mbr}" <<'EOF'\n${script}EOF`]);
    const ml = layout(mbr);
    const byNumber = (n: number) => ml.find((p) => p.number === n)!;
    copyInto(mbr, volumes[12].image, byNumber(1).start);
    copyInto(mbr, volumes[16].image, byNumber(5).start);
    copyInto(mbr, volumes[32].image, byNumber(6).start);
    disks.push({
      name: "mbr",
      raw: mbr,
      vhdx: toVhdx(mbr),
      scheme: "mbr",
      partitions: ml.map((p) => ({
        number: p.number,
        startSector: p.start,
        sectors: p.size,
        volume: p.number === 1 ? volumes[12] : p.number === 5 ? volumes[16] : p.number === 6 ? volumes[32] : null,
      })),
    });
    const fixtures: Fixtures = { dir, volumes, disks };
    writeFileSync(`${manifest}.tmp`, JSON.stringify(fixtures, replacer));
    renameSync(`${manifest}.tmp`, manifest);
    return fixtures;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function replacer(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? { $b64: Buffer.from(v).toString("base64") } : v;
}
function reviver(_k: string, v: unknown): unknown {
  return v && typeof v === "object" && "$b64" in v
    ? new Uint8Array(Buffer.from((v as { $b64: string }).$b64, "base64"))
    : v;
}

/** What The Sleuth Kit lists: path → { type, size, inode, mtime } (deleted and virtual entries left out). */
export function tskList(
  raw: string,
  startSector: number,
): Map<string, { type: "file" | "dir"; size: number; inode: string; mtime: string }> {
  const r = run("fls", ["-r", "-p", "-l", "-o", String(startSector), raw], { env });
  if (r.exitCode !== 0) throw new Error(`fls failed: ${r.stderr}`);
  const out = new Map<string, { type: "file" | "dir"; size: number; inode: string; mtime: string }>();
  for (const line of r.stdout.split("\n")) {
    const m =
      /^([a-zA-Z-])\/([a-zA-Z-]) (\*? ?)(\d+)(?:\([^)]*\))?:\t([^\t]*)\t([^\t]*)\t[^\t]*\t[^\t]*\t[^\t]*\t(\d+)/.exec(
        line,
      );
    if (!m) continue;
    const [, , meta, deleted, inode, path, mtime, size] = m;
    if (deleted.includes("*") || meta === "v" || meta === "V" || path.includes("(Volume Label Entry)")) continue;
    out.set(path, { type: meta === "d" ? "dir" : "file", size: Number(size), inode, mtime });
  }
  return out;
}

export function icat(raw: string, startSector: number, inode: string): Buffer {
  const r = run("sh", ["-c", `icat -o ${startSector} "${raw}" ${inode} | base64 -w0`], { env });
  return Buffer.from(r.stdout, "base64");
}

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
