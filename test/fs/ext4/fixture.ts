/**
 * ext2/3/4 test fixtures: a generated directory tree (a directory of thousands of entries, 20
 * levels of nesting, non-ASCII names, empty files and folders, sizes around block boundaries,
 * sparse files, hard links, fast and slow symlinks), put into images by `mke2fs -d`, then a
 * fragmented file added with debugfs. What the tree holds is recorded as it is written, so tests
 * compare the driver with the tree, and with The Sleuth Kit reading the same image.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  ftruncateSync,
} from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { FsError } from "../../../src/fs/errors";
import type { BlockDevice, FileSystem, FsEntry } from "../../../src/fs/types";
import { Rng } from "../../helpers/random";
import { runOk } from "../../helpers/run";
import { requireTool } from "../../helpers/tools";

export const MiB = 1024 * 1024;
/** Entries of the hashed directory. */
export const BIG_DIR_ENTRIES = 3000;
export const NESTING = 20;

export interface Expected {
  type: "file" | "dir" | "symlink";
  size: number;
  sha256?: string;
  target?: string;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function bytes(seed: number, n: number): Uint8Array {
  const r = new Rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = r.u32();
    out[i] = v;
    if (i + 1 < n) out[i + 1] = v >>> 8;
    if (i + 2 < n) out[i + 2] = v >>> 16;
    if (i + 3 < n) out[i + 3] = v >>> 24;
  }
  return out;
}

/**
 * Writes the tree under `root` and returns what each path should read as. `bigDir`: include the
 * directory of BIG_DIR_ENTRIES entries (mke2fs -d fills it in quadratic time, so only some images
 * carry it).
 */
export function buildTree(root: string, bigDir = true): Map<string, Expected> {
  const expected = new Map<string, Expected>();
  let seed = 1;
  const dir = (p: string) => {
    mkdirSync(join(root, p), { recursive: true });
    expected.set(p, { type: "dir", size: 0 });
  };
  const file = (p: string, data: Uint8Array) => {
    writeFileSync(join(root, p), data);
    expected.set(p, { type: "file", size: data.length, sha256: sha256(data) });
  };
  const sparse = (p: string, size: number, writes: [number, number][]) => {
    const fd = openSync(join(root, p), "w");
    ftruncateSync(fd, size);
    const whole = new Uint8Array(size);
    for (const [at, n] of writes) {
      const d = bytes(seed++, n);
      writeSync(fd, d, 0, n, at);
      whole.set(d, at);
    }
    closeSync(fd);
    expected.set(p, { type: "file", size, sha256: sha256(whole) });
  };
  const link = (p: string, target: string) => {
    symlinkSync(target, join(root, p));
    expected.set(p, { type: "symlink", size: Buffer.byteLength(target), target });
  };

  if (bigDir) dir("big");
  for (let i = 0; bigDir && i < BIG_DIR_ENTRIES; i++) {
    const n = i % 11 === 0 ? (i % 300) + 1 : 0;
    file(`big/entry-${String(i).padStart(5, "0")}-${"x".repeat(i % 40)}`, bytes(seed++, n));
  }
  let deep = "";
  for (let i = 1; i <= NESTING; i++) {
    deep = deep ? `${deep}/level${i}` : `level${i}`;
    dir(deep);
  }
  file(`${deep}/bottom.txt`, new TextEncoder().encode("twenty levels down\n"));
  dir("names");
  for (const name of ["héllo wörld.txt", "日本語のファイル.txt", "emoji 🎉.bin", "Ωμέγα", "tab\tand space"]) {
    file(`names/${name}`, bytes(seed++, 100));
  }
  dir("empty-dir");
  file("empty-file", new Uint8Array(0));
  dir("sizes");
  for (const n of [
    1,
    59,
    60,
    61,
    1023,
    1024,
    1025,
    2047,
    2048,
    2049,
    4095,
    4096,
    4097,
    12 * 1024,
    12 * 1024 + 1,
    65535,
    65536,
    65537,
    268 * 1024 + 1,
  ]) {
    file(`sizes/size-${n}`, bytes(seed++, n));
  }
  sparse("sparse-48m.bin", 48 * MiB, [
    [0, 5000],
    [8 * MiB + 123, 70000],
    [30 * MiB, MiB],
    [48 * MiB - 777, 777],
  ]);
  // Past 64 MiB + 268 KiB a 1 KiB-block map needs its triple-indirect block. The data runs to
  // the end: mke2fs -d with inline_data cuts a trailing hole off i_size (debugfs shows the same).
  sparse("sparse-80m.bin", 80 * MiB, [
    [4096, 4096],
    [80 * MiB - 10000, 10000],
  ]);
  file("linked.bin", bytes(seed++, 3000));
  linkSync(join(root, "linked.bin"), join(root, "names/hard link.bin"));
  expected.set("names/hard link.bin", { ...expected.get("linked.bin")! });
  link("fast-link", "sizes/size-1");
  link("slow-link", `${"very-long-directory-name/".repeat(8)}target`);
  link("dir-link", "level1/level2");
  return expected;
}

/**
 * Makes an image of `sizeMiB` from the tree with extra mke2fs options, then has e2fsck -D index
 * its directories (mke2fs -d writes linear ones), so large directories become hash trees.
 */
export function makeImage(tree: string, image: string, sizeMiB: number, options: string[]): void {
  writeFileSync(image, "");
  // A fixed UUID and hash seed: the same hash tree layout on every run.
  const uuid = "5eed0000-e417-4000-8000-000000000001";
  runOk(requireTool("mke2fs"), [
    ...["-q", "-F", "-U", uuid, "-E", `root_owner=0:0,hash_seed=${uuid}`],
    ...options,
    ...["-d", tree, image, `${sizeMiB}M`],
  ]);
  const fsck = spawnSync(requireTool("e2fsck"), ["-f", "-y", "-D", image], { encoding: "utf8" });
  // 0: clean; 1: errors corrected — here, the directories it rebuilt as indexed.
  if (fsck.status !== 0 && fsck.status !== 1) throw new Error(`e2fsck -fyD ${image}: ${fsck.stdout}${fsck.stderr}`);
}

/**
 * Adds frag/ with debugfs: small files, every other one removed, then a large file written into
 * the gaps. Returns what frag/ should read as.
 */
export function addFragmented(image: string, scratch: string, blockSize: number): Map<string, Expected> {
  const expected = new Map<string, Expected>([["frag", { type: "dir", size: 0 }]]);
  const small = bytes(7777, 3 * blockSize);
  const big = bytes(8888, 60 * blockSize + 5);
  writeFileSync(join(scratch, "small"), small);
  writeFileSync(join(scratch, "big"), big);
  const cmds = ["mkdir frag", "cd frag"];
  for (let i = 0; i < 40; i++) cmds.push(`write ${join(scratch, "small")} s${i}`);
  for (let i = 0; i < 40; i += 2) cmds.push(`rm s${i}`);
  cmds.push(`write ${join(scratch, "big")} big`);
  writeFileSync(join(scratch, "cmds"), cmds.join("\n") + "\n");
  runOk(requireTool("debugfs"), ["-w", "-f", join(scratch, "cmds"), image]);
  for (let i = 1; i < 40; i += 2)
    expected.set(`frag/s${i}`, { type: "file", size: small.length, sha256: sha256(small) });
  expected.set("frag/big", { type: "file", size: big.length, sha256: sha256(big) });
  return expected;
}

/** A BlockDevice over a file, through a Node file handle. */
export class FileDevice implements BlockDevice {
  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileDevice> {
    const handle = await open(path, "r");
    return new FileDevice(handle, (await handle.stat()).size);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new FsError("FS_OUT_OF_RANGE", `read of ${length} at ${offset} past ${this.size}`, "device", offset);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`short read at ${offset + done}`);
      done += bytesRead;
    }
    return out;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Every entry under `dir`, depth first, bounded by `limit`. */
export async function listAll(fs: FileSystem, dir: FsEntry, limit = 100_000): Promise<Map<string, FsEntry>> {
  const out = new Map<string, FsEntry>();
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for await (const e of fs.readDir(d)) {
      out.set(e.path, e);
      if (out.size > limit) throw new Error(`more than ${limit} entries`);
      if (e.type === "dir") stack.push(e);
    }
  }
  return out;
}

/** A whole file through fs.read in pieces. */
export async function readWhole(fs: FileSystem, e: FsEntry, piece = 8 * MiB): Promise<Uint8Array> {
  const out = new Uint8Array(e.size);
  for (let at = 0; at < e.size; at += piece) out.set(await fs.read(e, at, Math.min(piece, e.size - at)), at);
  return out;
}

export interface TskEntry {
  type: "file" | "dir" | "symlink" | "other";
  inode: number;
  size: number;
}

/**
 * `fls -r -p -l` of the raw image: every allocated name with its type, inode and size. fls cannot
 * read some directories ("Error reading directory contents" for a directory whose extent tree has
 * more than one leaf block); those are listed by `debugfs ls -p` instead, and named in `viaDebugfs`.
 */
export function flsList(image: string): { entries: Map<string, TskEntry>; viaDebugfs: string[] } {
  const r = runOk(requireTool("fls"), ["-r", "-p", "-l", "-f", "ext4", image]);
  const out = new Map<string, TskEntry>();
  for (const line of r.stdout.split("\n")) {
    if (!line) continue;
    const fields = line.split("\t");
    const m = /^(\S)\/(\S) (\*?)\s*(\d+)(?:-\d+-\d+)?(\(realloc\))?:$/.exec(fields[0]);
    if (!m) continue;
    if (m[3] === "*" || m[2] === "V" || m[1] === "V") continue;
    const path = fields[1];
    if (path.startsWith("$OrphanFiles")) continue;
    const type = m[2] === "r" ? "file" : m[2] === "d" ? "dir" : m[2] === "l" ? "symlink" : "other";
    out.set(path, { type, inode: Number(m[4]), size: Number(fields[6]) });
  }
  // fls -r skips a directory it cannot read without a word: ask fls again for each directory
  // that came back empty, where it does say so.
  const viaDebugfs: string[] = [];
  const parents = new Set([...out.keys()].map((p) => p.slice(0, Math.max(0, p.lastIndexOf("/")))));
  for (const [dir, e] of [...out]) {
    if (e.type !== "dir" || parents.has(dir)) continue;
    const one = spawnSync(requireTool("fls"), ["-f", "ext4", image, String(e.inode)], { encoding: "utf8" });
    if (!/Error reading directory contents/.test(one.stderr)) continue;
    viaDebugfs.push(dir);
    debugfsWalk(image, e.inode, dir, out);
  }
  return { entries: out, viaDebugfs };
}

/** `debugfs ls -p` of a directory and its subdirectories, into `out` (fls's shape). */
function debugfsWalk(image: string, inode: number, path: string, out: Map<string, TskEntry>): void {
  const r = runOk(requireTool("debugfs"), ["-R", `ls -p <${inode}>`, image]);
  for (const line of r.stdout.split("\n")) {
    // /inode/mode/uid/gid/name/size/
    const m = /^\/(\d+)\/(\d+)\/\d+\/\d+\/(.*)\/(\d*)\/$/.exec(line);
    if (!m || m[3] === "." || m[3] === ".." || m[1] === "0") continue;
    const mode = parseInt(m[2], 8) & 0o170000;
    const type = mode === 0o100000 ? "file" : mode === 0o40000 ? "dir" : mode === 0o120000 ? "symlink" : "other";
    const child = `${path}/${m[3]}`;
    out.set(child, { type, inode: Number(m[1]), size: Number(m[4] || 0) });
    if (type === "dir") debugfsWalk(image, Number(m[1]), child, out);
  }
}

/** The Sleuth Kit's reading of a symlink's target (`istat`'s "symbolic link to:" line). */
export function istatTarget(image: string, inode: number): string | undefined {
  const r = spawnSync(requireTool("istat"), ["-f", "ext4", image, String(inode)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`istat ${inode} failed: ${r.stderr}`);
  return /^symbolic link to: (.*)$/m.exec(r.stdout)?.[1];
}

/** `icat` of one inode: The Sleuth Kit's reading of the file's bytes. */
export function icat(image: string, inode: number): Buffer {
  const r = spawnSync(requireTool("icat"), ["-f", "ext4", image, String(inode)], { maxBuffer: 256 * MiB });
  if (r.status !== 0) throw new Error(`icat ${inode} failed: ${r.stderr}`);
  return r.stdout;
}

/** The blocks of a file's map as debugfs stat lists them: (IND), (DIND), (TIND) and (ETBn). */
export function debugfsMapBlocks(image: string, inode: number): { kind: string; block: number }[] {
  const out = runOk(requireTool("debugfs"), ["-R", `stat <${inode}>`, image]).stdout;
  return [...out.matchAll(/\((IND|DIND|TIND|ETB\d+)\):(\d+)/g)].map((m) => ({
    kind: m[1].startsWith("ETB") ? "ETB" : m[1],
    block: Number(m[2]),
  }));
}
