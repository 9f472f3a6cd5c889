/**
 * A FAT12/FAT16/FAT32 volume as a read-only `FileSystem`. An entry's ref is
 * `[firstCluster, entryOffset, ...ancestorClusters]`: the ancestors let a directory that points
 * back at one of them (a loop in the tree) be told from a real subdirectory.
 */
import { FsError } from "../errors";
import type { BlockDevice, FileExtent, FileSystem, FsDriver, FsEntry, FsFinding, Owner } from "../types";
import { upcaseUnits } from "../walk";
import { looksLikeFatBootSector, parseBootSector, type BootSector } from "./bootSector";
import { ATTR_DIRECTORY, DirectoryDecoder, type DecodedEntry } from "./dirEntry";
import { FatTable, type ClusterRun } from "./fat";
import { parseFsInfo } from "./fsInfo";
import { OwnerIndex } from "./owners";

/** Bytes of a directory read at once. */
const DIR_PIECE = 1024 * 1024;
/** Bytes of a file read at once by `read`. */
const READ_PIECE = 4 * 1024 * 1024;

function refOf(e: FsEntry): { first: number; offset: number; ancestors: number[] } {
  const r = e.ref;
  if (!Array.isArray(r) || r.length < 2 || !r.every((x) => typeof x === "number"))
    throw new FsError("FS_NOT_FOUND", `not an entry of this FAT volume: ${e.path}`, "directory entry");
  const n = r as number[];
  return { first: n[0], offset: n[1], ancestors: n.slice(2) };
}

export class FatFileSystem implements FileSystem {
  readonly type: string;
  private volumeLabel = "";
  readonly uuid: string;
  readonly blockSize: number;
  readonly size: number;
  readonly findings: FsFinding[];
  readonly fat: FatTable;
  private readonly clusterBytes: number;
  private readonly dataOffset: number;
  private owners: Promise<OwnerIndex> | null = null;
  private lastRuns: { key: string; runs: ClusterRun[] } | null = null;

  private constructor(
    private readonly device: BlockDevice,
    readonly bs: BootSector,
    findings: FsFinding[],
  ) {
    this.type = bs.fatType;
    this.uuid =
      bs.volumeId === null
        ? ""
        : `${(bs.volumeId >>> 16).toString(16).padStart(4, "0")}-${(bs.volumeId & 0xffff).toString(16).padStart(4, "0")}`.toUpperCase();
    this.clusterBytes = bs.sectorsPerCluster * bs.bytesPerSector;
    this.blockSize = this.clusterBytes;
    this.size = bs.totalSectors * bs.bytesPerSector;
    this.dataOffset = bs.firstDataSector * bs.bytesPerSector;
    this.fat = new FatTable(device, bs);
    this.findings = findings;
  }

  static async mount(device: BlockDevice): Promise<FatFileSystem> {
    if (device.size < 512)
      throw new FsError("FS_CORRUPT", "the volume is smaller than a boot sector", "boot sector", 0);
    const bs = parseBootSector(await device.read(0, 512), device.size);
    const findings: FsFinding[] = [];
    if (bs.fatType === "fat32" && bs.fsInfoSector > 0 && bs.fsInfoSector < bs.reservedSectors) {
      const at = bs.fsInfoSector * bs.bytesPerSector;
      if (!parseFsInfo(await device.read(at, 512)).signaturesValid)
        findings.push({
          severity: "warning",
          code: "FAT_FSINFO_SIGNATURE",
          message: "the FSInfo sector's signatures are wrong",
          structure: "FSInfo",
          offset: at,
        });
    }
    const fs = new FatFileSystem(device, bs, findings);
    await fs.fat.compareCopies(findings);
    const rootLabel = await fs.rootLabel();
    fs.volumeLabel = rootLabel ?? (bs.volumeLabel === "NO NAME" ? "" : bs.volumeLabel);
    return fs;
  }

  /** The root directory's volume label entry, else BS_VolLab (unless "NO NAME"). */
  get label(): string {
    return this.volumeLabel;
  }

  /** The volume label entry of the root directory, looked for in its first 64 KiB. */
  private async rootLabel(): Promise<string | null> {
    const dec = new DirectoryDecoder(this.bs.fatType === "fat32", "root directory");
    try {
      for await (const piece of this.directoryPieces(
        this.bs.fatType === "fat32" ? this.bs.rootCluster : 0,
        "root directory",
        64 * 1024,
      )) {
        dec.push(piece.bytes, piece.offset);
        if (dec.label !== null || dec.ended) break;
      }
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
    }
    return dec.label;
  }

  /** FAT names (long and 8.3) compare without regard to case. */
  foldName(name: string): string {
    return upcaseUnits(name);
  }

  async root(): Promise<FsEntry> {
    const first = this.bs.fatType === "fat32" ? this.bs.rootCluster : 0;
    return {
      name: "",
      path: "",
      type: "dir",
      size: 0,
      mtime: null,
      mtimeIsLocal: true,
      attributes: ATTR_DIRECTORY,
      ref: [first, -1],
    };
  }

  /** A directory's bytes in pieces: the fixed root region (FAT12/16) or a cluster chain. */
  private async *directoryPieces(
    first: number,
    what: string,
    limit = Infinity,
  ): AsyncGenerator<{ bytes: Uint8Array; offset: number }> {
    let left = limit;
    if (first === 0 && this.bs.fatType !== "fat32") {
      const start = (this.bs.reservedSectors + this.bs.numFats * this.bs.fatSize) * this.bs.bytesPerSector;
      const length = this.bs.rootDirSectors * this.bs.bytesPerSector;
      for (let at = 0; at < length && left > 0; at += DIR_PIECE) {
        const n = Math.min(DIR_PIECE, length - at, left);
        yield { bytes: await this.device.read(start + at, n), offset: start + at };
        left -= n;
      }
      return;
    }
    for (const run of await this.fat.runs(first, what)) {
      const start = this.clusterOffset(run.first);
      const length = run.count * this.clusterBytes;
      for (let at = 0; at < length && left > 0; at += DIR_PIECE) {
        const n = Math.min(DIR_PIECE, length - at, left);
        yield { bytes: await this.device.read(start + at, n), offset: start + at };
        left -= n;
      }
      if (left <= 0) return;
    }
  }

  clusterOffset(cluster: number): number {
    return this.dataOffset + (cluster - 2) * this.clusterBytes;
  }

  async *readDir(dir: FsEntry): AsyncIterable<FsEntry> {
    if (dir.type !== "dir")
      throw new FsError("FS_NOT_A_DIRECTORY", `${dir.path} is not a directory`, "directory entry");
    const { first, ancestors } = refOf(dir);
    const what = `directory ${dir.path === "" ? "/" : dir.path}`;
    const structure = dir.path === "" ? "root directory" : `directory ${dir.path}`;
    if (dir.findings?.some((f) => f.code === "FAT_DIRECTORY_LOOP"))
      throw new FsError("FS_CORRUPT", `${what} is one of its own ancestors (cluster ${first})`, structure);
    const dec = new DirectoryDecoder(this.bs.fatType === "fat32", structure);
    const lineage = [...ancestors, first];
    const rootCluster = this.bs.fatType === "fat32" ? this.bs.rootCluster : 0;
    for await (const piece of this.directoryPieces(first, what)) {
      for (const d of dec.push(piece.bytes, piece.offset)) yield this.entry(dir, d, lineage, rootCluster);
      if (dec.ended) return;
    }
  }

  private entry(dir: FsEntry, d: DecodedEntry, lineage: number[], rootCluster: number): FsEntry {
    const s = d.short;
    const isDir = (s.attributes & ATTR_DIRECTORY) !== 0;
    const findings = [...d.findings];
    const path = dir.path === "" ? d.name : `${dir.path}/${d.name}`;
    if (isDir && (lineage.includes(s.firstCluster) || s.firstCluster === rootCluster || s.firstCluster === 0))
      findings.push({
        severity: "error",
        code: "FAT_DIRECTORY_LOOP",
        message: `directory ${path} starts at cluster ${s.firstCluster}, which holds ${s.firstCluster === 0 || s.firstCluster === rootCluster ? "the root directory" : "one of its ancestors"}`,
        structure: "directory entry",
        offset: d.offset,
      });
    const e: FsEntry = {
      name: d.name,
      path,
      type: isDir ? "dir" : "file",
      size: isDir ? 0 : s.fileSize,
      mtime: s.mtime,
      mtimeIsLocal: true,
      atime: s.atime,
      crtime: s.crtime,
      attributes: s.attributes,
      ref: [s.firstCluster, d.offset, ...lineage],
    };
    if (findings.length > 0) e.findings = findings;
    return e;
  }

  /** The runs of a file's clusters, as many as its size needs. */
  private async fileRuns(file: FsEntry): Promise<ClusterRun[]> {
    if (file.type !== "file") throw new FsError("FS_NOT_A_FILE", `${file.path} is not a file`, "directory entry");
    const { first, offset } = refOf(file);
    if (file.size === 0) return [];
    const key = `${first}:${offset}:${file.size}`;
    if (this.lastRuns?.key === key) return this.lastRuns.runs;
    const runs = await this.fat.runs(first, `file ${file.path}`, Math.ceil(file.size / this.clusterBytes));
    this.lastRuns = { key, runs };
    return runs;
  }

  async *extents(file: FsEntry): AsyncIterable<FileExtent> {
    let fileOffset = 0;
    for (const r of await this.fileRuns(file)) {
      const length = Math.min(r.count * this.clusterBytes, file.size - fileOffset);
      yield { fileOffset, length, deviceOffset: this.clusterOffset(r.first) };
      fileOffset += length;
    }
  }

  async read(file: FsEntry, offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0)
      throw new FsError("FS_OUT_OF_RANGE", `read of ${length} bytes at ${offset}`, `file ${file.path}`);
    const end = Math.min(file.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    let fileOffset = 0;
    for (const r of await this.fileRuns(file)) {
      const runEnd = fileOffset + r.count * this.clusterBytes;
      const from = Math.max(offset, fileOffset);
      const to = Math.min(end, runEnd);
      for (let at = from; at < to; at += READ_PIECE) {
        const n = Math.min(READ_PIECE, to - at);
        out.set(await this.device.read(this.clusterOffset(r.first) + (at - fileOffset), n), at - offset);
      }
      fileOffset = runEnd;
      if (fileOffset >= end) break;
    }
    return out;
  }

  async ownerOf(offset: number): Promise<Owner> {
    const bs = this.bs;
    const bps = bs.bytesPerSector;
    if (offset < 0 || offset >= this.size) return { kind: "unknown" };
    const sector = Math.floor(offset / bps);
    if (sector < bs.reservedSectors) {
      if (sector === 0) return { kind: "structure", structure: "boot sector" };
      if (bs.fatType === "fat32" && sector === bs.fsInfoSector) return { kind: "structure", structure: "FSInfo" };
      if (
        bs.fatType === "fat32" &&
        bs.backupBootSector > 0 &&
        sector >= bs.backupBootSector &&
        sector < bs.backupBootSector + 3
      )
        return { kind: "structure", structure: "backup boot sector" };
      return { kind: "structure", structure: "reserved sectors" };
    }
    const fatSector = sector - bs.reservedSectors;
    if (fatSector < bs.numFats * bs.fatSize)
      return { kind: "structure", structure: `FAT ${Math.floor(fatSector / bs.fatSize) + 1}` };
    if (sector < bs.firstDataSector) return { kind: "structure", structure: "root directory", path: "" };
    const cluster = 2 + Math.floor((offset - this.dataOffset) / this.clusterBytes);
    if (cluster > bs.clusterCount + 1) return { kind: "unknown" };
    this.owners ??= OwnerIndex.build(this, this.fat);
    const owner = (await this.owners).owner(cluster, offset - this.clusterOffset(cluster));
    if (owner) return owner;
    return (await this.fat.next(cluster)) === 0 ? { kind: "free" } : { kind: "unknown" };
  }
}

export const fatDriver: FsDriver = {
  name: "fat",
  probe: (head) => looksLikeFatBootSector(head),
  mount: (device) => FatFileSystem.mount(device),
};
