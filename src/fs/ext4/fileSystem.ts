/**
 * The FileSystem over a mounted ext2/3/4 volume: entries from inodes, a file's extents from its
 * extent tree, block map or inline data, and reads that fill holes and uninitialized extents with
 * zeros without touching the device.
 */
import { FsError } from "../errors";
import {
  ENTRY_TYPES,
  type EntryColumns,
  type FileExtent,
  type FileSystem,
  type FsEntry,
  type FsFinding,
  type Owner,
} from "../types";
import { directoryEntries, directoryRuns, type NamedEntry } from "./directory";
import type { BlockRun } from "./fileMap";
import { runAt } from "./fileMap";
import { EXT4_ENCRYPT_FL, EXT4_INLINE_DATA_FL, I_BLOCK, inodeKind, type InodeKind } from "./inode";
import { inlineDataPieces } from "./inlineData";
import { OwnerIndex } from "./owner";
import { fileSystemType, formatUuid, INCOMPAT_FILETYPE } from "./superblock";
import { type ExtVolume, type LoadedInode, ROOT_INO } from "./volume";

/** The longest symlink target read (Linux allows PATH_MAX, 4096 bytes). */
const MAX_SYMLINK = 65536;
/** The most bytes one read() returns; larger reads are the caller's to split. */
const MAX_READ = 256 * 1024 * 1024;

const FILE_TYPE_KINDS: Record<number, InodeKind> = { 1: "file", 2: "dir", 7: "symlink" };

export class ExtFileSystem implements FileSystem {
  readonly type: string;
  readonly label: string;
  readonly uuid: string;
  readonly blockSize: number;
  readonly size: number;
  private ownerIndex: OwnerIndex | undefined;

  constructor(readonly volume: ExtVolume) {
    this.type = fileSystemType(volume.sb);
    this.label = volume.sb.volumeName;
    this.uuid = formatUuid(volume.sb.uuid);
    this.blockSize = volume.blockSize;
    this.size = volume.sb.blocksCount * volume.blockSize;
  }

  /** Volume findings, including those met while reading (checksums of blocks read so far). */
  get findings(): readonly FsFinding[] {
    return this.volume.findings;
  }

  async root(): Promise<FsEntry> {
    const root = await this.entryFor(ROOT_INO, "", "");
    if (root.type !== "dir") {
      throw new FsError(
        "FS_CORRUPT",
        "the root inode is not a directory",
        "inode 2",
        this.volume.inodeOffset(ROOT_INO),
      );
    }
    return root;
  }

  private async loadDir(dir: FsEntry): Promise<LoadedInode> {
    const loaded = await this.load(dir);
    if (inodeKind(loaded.inode.mode) !== "dir") {
      throw new FsError(
        "FS_NOT_A_DIRECTORY",
        `${dir.path || "/"} is not a directory`,
        `inode ${loaded.ino}`,
        loaded.offset,
      );
    }
    return loaded;
  }

  async *readDir(dir: FsEntry): AsyncIterable<FsEntry> {
    const loaded = await this.loadDir(dir);
    for await (const e of directoryEntries(this.volume, loaded)) {
      yield await this.wholeEntry(
        e,
        FILE_TYPE_KINDS[e.fileType] ?? "other",
        dir.path === "" ? e.name : `${dir.path}/${e.name}`,
      );
    }
  }

  /** `readDir`'s entries a run (a batch of directory blocks) at a time. */
  async *readDirRuns(dir: FsEntry): AsyncIterable<FsEntry[]> {
    const loaded = await this.loadDir(dir);
    const prefix = dir.path === "" ? "" : `${dir.path}/`;
    for await (const named of directoryRuns(this.volume, loaded)) {
      const out: FsEntry[] = new Array(named.length);
      for (let i = 0; i < named.length; i++) {
        const e = named[i];
        out[i] = await this.wholeEntry(e, FILE_TYPE_KINDS[e.fileType] ?? "other", prefix + e.name);
      }
      yield out;
    }
  }

  /** The entry for a directory entry, from its inode; one whose inode cannot be read is still shown, with the reason on it. */
  private async wholeEntry(e: Omit<NamedEntry, "fileType">, type: FsEntry["type"], path: string): Promise<FsEntry> {
    try {
      const entry = await this.entryFor(e.inode, e.name, path);
      if (e.findings.length) entry.findings = [...(entry.findings ?? []), ...e.findings];
      return entry;
    } catch (err) {
      if (!(err instanceof FsError)) throw err;
      return {
        name: e.name,
        path,
        type,
        size: 0,
        mtime: null,
        ref: e.inode,
        findings: [
          ...e.findings,
          {
            severity: "error",
            code: "EXT4_INODE_UNREADABLE",
            message: err.message,
            structure: err.structure,
            offset: err.offset,
          },
        ],
      };
    }
  }

  /**
   * A directory's entries from its blocks alone, in columns a run at a time: each name and the
   * type its directory entry records, no inode read (`stat` reads it: size, times, a symlink's
   * target). Where entries record no type (no filetype feature), the entries are read whole.
   */
  async *readDirColumns(dir: FsEntry): AsyncIterable<EntryColumns> {
    const loaded = await this.loadDir(dir);
    const prefix = dir.path === "" ? "" : `${dir.path}/`;
    const typed = (this.volume.sb.featureIncompat & INCOMPAT_FILETYPE) !== 0;
    let run: NamedEntry[] = [];
    let whole: FsEntry[] = [];
    const columns = (named: NamedEntry[], made: FsEntry[]): EntryColumns => ({
      names: named.map((e) => e.name),
      types: Uint8Array.from(named, (e, i) =>
        ENTRY_TYPES.indexOf(made[i]?.type ?? FILE_TYPE_KINDS[e.fileType] ?? "other"),
      ),
      sizes: Float64Array.from(named, (_, i) => made[i]?.size ?? 0),
      mtimes: Float64Array.from(named, (_, i) => made[i]?.mtime ?? NaN),
      entry: (i: number): FsEntry =>
        made[i] ?? {
          name: named[i].name,
          path: prefix + named[i].name,
          type: FILE_TYPE_KINDS[named[i].fileType] ?? "other",
          size: 0,
          mtime: null,
          ref: named[i].inode,
          findings: named[i].findings.length ? named[i].findings : undefined,
          partial: true,
        },
    });
    for await (const e of directoryEntries(this.volume, loaded)) {
      run.push(e);
      if (!typed) whole.push(await this.wholeEntry(e, "other", prefix + e.name));
      if (run.length >= 4096) {
        yield columns(run, whole);
        run = [];
        whole = [];
      }
    }
    if (run.length) yield columns(run, whole);
  }

  /** The whole entry for one `readDirColumns` gave from the directory alone. */
  async stat(entry: FsEntry): Promise<FsEntry> {
    if (typeof entry.ref !== "number")
      throw new FsError("FS_NOT_FOUND", `not an entry of this ext file system: ${entry.path}`, "directory entry");
    const named = { name: entry.name, inode: entry.ref, findings: entry.findings ?? [] };
    return this.wholeEntry(named, entry.type, entry.path);
  }

  async *extents(file: FsEntry): AsyncIterable<FileExtent> {
    const loaded = await this.load(file);
    const { inode } = loaded;
    if (inode.flags & EXT4_INLINE_DATA_FL) {
      let at = 0;
      for (const p of inlineDataPieces(inode, loaded.ino, loaded.offset)) {
        if (p.bytes.length) yield { fileOffset: at, length: p.bytes.length, deviceOffset: p.deviceOffset };
        at += p.bytes.length;
      }
      return;
    }
    if (this.isFastSymlink(loaded)) {
      yield { fileOffset: 0, length: inode.size, deviceOffset: loaded.offset + I_BLOCK };
      return;
    }
    const bs = this.blockSize;
    const map = await this.volume.fileMap(loaded);
    let at = 0;
    for (const run of map.runs) {
      const start = run.logical * bs;
      if (start >= inode.size) break;
      if (start > at) yield { fileOffset: at, length: start - at, deviceOffset: null };
      const length = Math.min(run.count * bs, inode.size - start);
      yield { fileOffset: start, length, deviceOffset: run.physical === null ? null : run.physical * bs };
      at = start + length;
    }
    if (at < inode.size) yield { fileOffset: at, length: inode.size - at, deviceOffset: null };
  }

  async read(file: FsEntry, offset: number, length: number): Promise<Uint8Array> {
    const loaded = await this.load(file);
    return this.readLoaded(loaded, offset, length);
  }

  async ownerOf(offset: number): Promise<Owner> {
    this.ownerIndex ??= new OwnerIndex(this.volume, this);
    return this.ownerIndex.ownerOf(offset);
  }

  /** An FsEntry for inode `ino` found under `name` at `path`. */
  async entryFor(ino: number, name: string, path: string): Promise<FsEntry> {
    const loaded = await this.volume.readInode(ino);
    const { inode } = loaded;
    const type = inodeKind(inode.mode);
    const entry: FsEntry = {
      name,
      path,
      type,
      size: inode.size,
      mtime: inode.mtime,
      atime: inode.atime,
      ctime: inode.ctime,
      crtime: inode.crtime,
      mode: inode.mode,
      links: inode.linksCount,
      uid: inode.uid,
      gid: inode.gid,
      ref: ino,
    };
    const findings = [...loaded.findings];
    if (type === "symlink") {
      try {
        entry.target = new TextDecoder().decode(await this.readLoaded(loaded, 0, Math.min(inode.size, MAX_SYMLINK)));
        if (inode.size > MAX_SYMLINK)
          throw new FsError("FS_CORRUPT", `symlink of ${inode.size} bytes`, `inode ${ino}`, loaded.offset);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        findings.push({
          severity: "error",
          code: "EXT4_SYMLINK_UNREADABLE",
          message: err.message,
          structure: err.structure,
          offset: err.offset,
        });
      }
    }
    if (findings.length) entry.findings = findings;
    return entry;
  }

  private async load(entry: FsEntry): Promise<LoadedInode> {
    if (typeof entry.ref !== "number") {
      throw new FsError("FS_NOT_FOUND", `${entry.path} has no inode number`, "inode", undefined);
    }
    return this.volume.readInode(entry.ref);
  }

  /** A symlink whose target sits in i_block: shorter than 60 bytes and no blocks of its own. */
  private isFastSymlink(loaded: LoadedInode): boolean {
    const { inode } = loaded;
    if (inodeKind(inode.mode) !== "symlink" || inode.size >= 60) return false;
    const eaBlocks = inode.fileAcl ? this.blockSize / 512 : 0;
    return inode.blocks - eaBlocks === 0;
  }

  private async readLoaded(loaded: LoadedInode, offset: number, length: number): Promise<Uint8Array> {
    const { inode, ino } = loaded;
    const end = Math.min(inode.size, offset + length);
    if (offset < 0 || length < 0)
      throw new FsError("FS_OUT_OF_RANGE", `read at ${offset} of ${length} bytes`, `inode ${ino}`, loaded.offset);
    if (end - offset > MAX_READ) {
      throw new FsError(
        "FS_OUT_OF_RANGE",
        `a read of ${end - offset} bytes is over the ${MAX_READ}-byte limit`,
        `inode ${ino}`,
        loaded.offset,
      );
    }
    const out = new Uint8Array(Math.max(0, end - offset));
    if (out.length === 0) return out;
    if (inode.flags & EXT4_ENCRYPT_FL) {
      throw new FsError("FS_ENCRYPTED", `inode ${ino} is encrypted`, `inode ${ino}`, loaded.offset);
    }
    if (inode.flags & EXT4_INLINE_DATA_FL || this.isFastSymlink(loaded)) {
      // The pieces are checked against the inode's room before anything is allocated.
      const pieces =
        inode.flags & EXT4_INLINE_DATA_FL
          ? inlineDataPieces(inode, ino, loaded.offset)
          : [{ bytes: inode.block.subarray(0, inode.size), deviceOffset: loaded.offset + I_BLOCK }];
      let at = 0;
      for (const p of pieces) {
        const from = Math.max(offset, at);
        const to = Math.min(end, at + p.bytes.length);
        if (to > from) out.set(p.bytes.subarray(from - at, to - at), from - offset);
        at += p.bytes.length;
      }
      return out;
    }
    const map = await this.volume.fileMap(loaded);
    await readRuns(this.volume, map.runs, offset, out);
    return out;
  }
}

/** Fills `out` with the file's bytes from `offset`: device reads for mapped runs, zeros elsewhere. */
async function readRuns(vol: ExtVolume, runs: readonly BlockRun[], offset: number, out: Uint8Array): Promise<void> {
  const bs = vol.blockSize;
  const end = offset + out.length;
  let i = Math.max(0, runAt(runs, Math.floor(offset / bs)));
  for (; i < runs.length; i++) {
    const run = runs[i];
    const runStart = run.logical * bs;
    const runEnd = runStart + run.count * bs;
    if (runStart >= end) break;
    if (runEnd <= offset || run.physical === null) continue;
    const from = Math.max(offset, runStart);
    const to = Math.min(end, runEnd);
    const bytes = await vol.device.read(run.physical * bs + (from - runStart), to - from);
    out.set(bytes, from - offset);
  }
}
