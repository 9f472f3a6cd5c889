/** `vhdx partitions`, `vhdx ls`, `vhdx get`: the volumes of a disk and the files inside them, read-only. */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { link, open, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FsError } from "../fs/errors";
import { mount } from "../fs/registry";
import { listVolumes, volumeDevice } from "../fs/partitions/volumes";
import { dirRuns, resolvePath } from "../fs/walk";
import type { BlockDevice, FileSystem, FsEntry } from "../fs/types";
import { flagString, oneImage, ParsedArgs, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize, toJson } from "./format";
import { chooseVolume, openDisk, volumeLines, type OpenDisk } from "./fsOpen";

/** Bytes read from the disk at once by `get`. */
const GET_PIECE = 4 * 1024 * 1024;

export async function partitionsCommand(a: ParsedArgs, io: Io): Promise<number> {
  const disk = await openDisk(oneImage(a, "partitions"));
  try {
    const t = await listVolumes(disk.device, disk.sectorSize);
    const volumes = [];
    for (const v of t.volumes) {
      let fs:
        { type: string; label: string; uuid: string; size: number; findings: unknown[] } | { error: string } | null =
        null;
      if (v.fileSystem !== null) {
        try {
          const m = await mount(volumeDevice(disk.device, v));
          fs = { type: m.type, label: m.label, uuid: m.uuid, size: m.size, findings: [...m.findings] };
        } catch (e) {
          if (!(e instanceof FsError)) throw e;
          fs = { error: e.describe() };
        }
      }
      volumes.push({ ...v, fs });
    }
    if (a.flags.has("json")) {
      io.out(
        toJson({
          scheme: t.scheme,
          sectorSize: t.sectorSize,
          gptSource: t.gptSource ?? null,
          findings: t.findings,
          volumes,
        }) + "\n",
      );
      return 0;
    }
    const scheme =
      t.scheme === "gpt" ? `GPT (${t.gptSource} header)` : t.scheme === "mbr" ? "MBR" : "no partition table";
    io.out(`${scheme}, ${t.sectorSize}-byte sectors\n`);
    const rows = [["#", "start", "size", "type", "label", "file system"]];
    for (const v of volumes) {
      const f = v.fs;
      const fsText = v.extended
        ? "(extended)"
        : f === null
          ? "-"
          : "error" in f
            ? `unreadable: ${f.error}`
            : `${f.type}${f.label ? ` "${f.label}"` : ""}`;
      rows.push([
        String(v.number),
        String(v.start),
        formatSize(v.size),
        v.type ? `${v.typeName} (${v.type})` : v.typeName,
        v.label,
        fsText,
      ]);
    }
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join("  ") + "\n");
    for (const f of t.findings) io.out(`${f.severity}: ${f.message} (${f.structure})\n`);
    for (const v of volumes) for (const f of v.findings ?? []) io.out(`${f.severity}: ${f.message}\n`);
    return 0;
  } finally {
    await disk.close();
  }
}

/** The volume's bytes [offset, offset + length) as pieces, each valid until the next is asked for. */
type Span = (offset: number, length: number) => AsyncIterable<Uint8Array>;

/** Mounts the chosen volume, or prints the partitions and returns exit code 2. */
async function withFileSystem(
  a: ParsedArgs,
  command: string,
  run: (fs: FileSystem, device: BlockDevice, span: Span | null) => Promise<number>,
): Promise<number> {
  const disk: OpenDisk = await openDisk(a.positionals[0]);
  try {
    const c = await chooseVolume(a, disk);
    if ("ambiguous" in c) {
      process.stderr.write(
        `vhdx ${command}: the disk holds more than one file system; choose one with --partition N:\n${volumeLines(c.ambiguous).join("\n")}\n`,
      );
      return 2;
    }
    const start = c.volume.start;
    const span: Span | null = disk.segments ? (o, l) => disk.segments!(start + o, l) : null;
    const fs = await mount(c.device);
    if (a.flags.has("system")) fs.showSystem = true;
    return await run(fs, c.device, span);
  } finally {
    await disk.close();
  }
}

/** ISO 8601; a local time without a zone (FAT) is printed without one. */
function isoTime(e: FsEntry): string | null {
  if (e.mtime === null) return null;
  const s = new Date(e.mtime).toISOString();
  return e.mtimeIsLocal ? s.slice(0, -1) : s;
}

function jsonEntry(e: FsEntry): string {
  const o: Record<string, unknown> = { path: e.path, name: e.name, type: e.type, size: e.size, mtime: isoTime(e) };
  if (e.target !== undefined) o.target = e.target;
  return JSON.stringify(o);
}

/** The last second `textTime` formatted: the files of a folder are mostly written within a few seconds. */
let lastSecond = NaN;
let lastSecondText = "";

/** `YYYY-MM-DD HH:MM:SS`, or dashes for no time. */
function textTime(e: FsEntry): string {
  if (e.mtime === null) return "-".padEnd(19);
  const second = Math.floor(e.mtime / 1000);
  if (second !== lastSecond) {
    lastSecondText = isoTime(e)!.replace("T", " ").slice(0, 19);
    lastSecond = second;
  }
  return lastSecondText;
}

function textEntry(e: FsEntry): string {
  const t = e.type === "dir" ? "d" : e.type === "symlink" ? "l" : e.type === "file" ? "-" : "?";
  const time = textTime(e);
  return `${t} ${String(e.size).padStart(12)}  ${time}  ${e.path}${e.target !== undefined ? ` -> ${e.target}` : ""}`;
}

/** Output gathered into pieces of about 64 KiB: one write per piece, not per entry. */
class Lines {
  private parts: string[] = [];
  private bytes = 0;
  constructor(private readonly io: Io) {}
  add(s: string): void {
    this.parts.push(s);
    this.bytes += s.length;
    if (this.bytes >= 65536) this.flush();
  }
  flush(): void {
    if (this.parts.length > 0) this.io.out(this.parts.join(""));
    this.parts = [];
    this.bytes = 0;
  }
}

export async function lsCommand(a: ParsedArgs, io: Io): Promise<number> {
  if (a.positionals.length < 1 || a.positionals.length > 2)
    throw new UsageError("ls takes an image and an optional path (see vhdx ls --help)");
  const json = a.flags.has("json");
  const recursive = a.flags.has("recursive");
  return withFileSystem(a, "ls", async (fs) => {
    const start = await resolvePath(fs, a.positionals[1] ?? "");
    const out = new Lines(io);
    let n = 0;
    let failed = 0;
    const emit = (e: FsEntry) => out.add(json ? `${n++ === 0 ? "" : ",\n"}${jsonEntry(e)}` : textEntry(e) + "\n");
    if (json) out.add("[\n");
    if (start.type !== "dir") emit(start);
    else {
      // Depth first, each directory's entries in on-disk order; a directory that cannot be read is told on stderr.
      const stack: FsEntry[] = [start];
      while (stack.length > 0) {
        const dir = stack.pop()!;
        const subdirs: FsEntry[] = [];
        try {
          for await (const run of dirRuns(fs, dir)) {
            for (const e of run) {
              emit(e);
              if (recursive && e.type === "dir") subdirs.push(e);
            }
          }
        } catch (e) {
          if (!(e instanceof FsError)) throw e;
          failed++;
          out.flush();
          process.stderr.write(`vhdx ls: ${dir.path || "/"}: ${e.describe()}\n`);
        }
        for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
      }
    }
    if (json) out.add("\n]\n");
    out.flush();
    return failed > 0 ? 1 : 0;
  });
}

export async function getCommand(a: ParsedArgs, io: Io): Promise<number> {
  if (a.positionals.length !== 2) throw new UsageError("get takes an image and a path (see vhdx get --help)");
  const output = flagString(a, "output");
  if (output !== undefined && existsSync(output))
    throw new UsageError(`${output} already exists; get never overwrites a file`);
  return withFileSystem(a, "get", async (fs, device, span) => {
    const file = await resolvePath(fs, a.positionals[1]);
    if (file.type !== "file")
      throw new FsError(
        "FS_NOT_A_FILE",
        `${file.path || "/"} is a ${file.type === "dir" ? "directory" : file.type}, not a file`,
        "path",
      );
    if (output === undefined) {
      await streamFile(fs, device, span, file, (b) => io.outBytes(b));
      return 0;
    }
    // Written under a temporary name beside the output, then linked to it: the output appears
    // whole or not at all, and a file that appeared meanwhile is never replaced.
    const tmp = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString("hex")}.partial`);
    const fh = await open(tmp, "wx");
    try {
      try {
        let pos = 0;
        await streamFile(fs, device, span, file, async (b) => {
          let done = 0;
          while (done < b.length) done += (await fh.write(b, done, b.length - done, pos + done)).bytesWritten;
          pos += b.length;
        });
        await fh.sync();
      } finally {
        await fh.close();
      }
      await link(tmp, output);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    return 0;
  });
}

/**
 * The file's bytes in order, through its extents: data read a piece at a time with the next read
 * in flight while the last is written, holes written as zeros without a read.
 */
async function streamFile(
  fs: FileSystem,
  device: BlockDevice,
  span: Span | null,
  file: FsEntry,
  write: (b: Uint8Array) => Promise<void>,
): Promise<void> {
  const zeros = new Uint8Array(Math.min(GET_PIECE, Math.max(file.size, 1)));
  let expected = 0;
  for await (const x of fs.extents(file)) {
    if (x.fileOffset !== expected)
      throw new FsError("FS_CORRUPT", `the extents of ${file.path} leave a gap at ${expected}`, `file ${file.path}`);
    expected += x.length;
    if (x.deviceOffset === null) {
      for (let at = 0; at < x.length; at += zeros.length)
        await write(zeros.subarray(0, Math.min(zeros.length, x.length - at)));
      continue;
    }
    // A plain run streams from the disk as `vhdx cat` does; an encoded one (compressed) reads
    // through the file system.
    const base = x.deviceOffset;
    if (!x.encoded && span) {
      for await (const piece of span(base, x.length)) await write(piece);
      continue;
    }
    const readPiece = (at: number) => {
      const n = Math.min(GET_PIECE, x.length - at);
      return x.encoded ? fs.read(file, x.fileOffset + at, n) : device.read(base + at, n);
    };
    let next: Promise<Uint8Array> | null = readPiece(0);
    for (let at = 0; at < x.length; at += GET_PIECE) {
      const piece: Uint8Array = await next!;
      next = at + GET_PIECE < x.length ? readPiece(at + GET_PIECE) : null;
      await write(piece);
    }
  }
  if (expected !== file.size)
    throw new FsError(
      "FS_CORRUPT",
      `the extents of ${file.path} cover ${expected} of ${file.size} bytes`,
      `file ${file.path}`,
    );
}
