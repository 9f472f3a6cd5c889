/**
 * An exFAT volume as a read-only `FileSystem` (Microsoft's exFAT specification). An entry's ref is
 * `[firstCluster, dataLength, noFatChain, validDataLength, entryOffset]`; the root's is
 * `[firstCluster, -1, 0, -1, -1]` (its length is its chain's).
 */
import { FsError } from "../errors";
import type { BlockDevice, FileExtent, FileSystem, FsDriver, FsEntry, FsFinding, Owner } from "../types";
import { upcaseUnits } from "../walk";
import {
  bootChecksumValid,
  looksLikeExfat,
  MEDIA_FAILURE,
  parseBootSector,
  VOLUME_DIRTY,
  type ExfatBootSector,
} from "./bootSector";
import {
  ATTR_DIRECTORY,
  decodeEntrySet,
  ENTRY_SIZE,
  TYPE_ALLOCATION_BITMAP,
  TYPE_END,
  TYPE_FILE,
  TYPE_UPCASE_TABLE,
  TYPE_VOLUME_LABEL,
  u16,
  u32,
  u64,
} from "./dirEntry";
import { ExfatFat, type ClusterRun } from "./fat";
import { OwnerIndex } from "./owners";
import { tableChecksum, UpcaseTable } from "./upcaseTable";

/** §6.2: a directory holds at most 256 MiB of entries. */
const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;
/** Directory bytes read at once. */
const DIR_PIECE = 1024 * 1024;

interface Ref {
  first: number;
  dataLength: number;
  noFatChain: boolean;
  validDataLength: number;
}

function refOf(e: FsEntry): Ref {
  const r = e.ref;
  if (!Array.isArray(r) || r.length !== 5 || !r.every((x) => typeof x === "number")) {
    throw new FsError("FS_NOT_FOUND", `not an entry of this exFAT volume: ${e.path}`, "directory entry");
  }
  const n = r as number[];
  return { first: n[0], dataLength: n[1], noFatChain: n[2] === 1, validDataLength: n[3] };
}

/** A special file the root directory names: the allocation bitmap or the up-case table. */
interface SystemFile {
  first: number;
  length: number;
}

export class ExfatFileSystem implements FileSystem {
  readonly type = "exfat";
  readonly blockSize: number;
  readonly size: number;
  readonly uuid: string;
  private owners: Promise<OwnerIndex> | null = null;

  private constructor(
    readonly device: BlockDevice,
    readonly bs: ExfatBootSector,
    readonly fat: ExfatFat,
    readonly label: string,
    readonly findings: FsFinding[],
    readonly bitmap: SystemFile | null,
    readonly upcase: SystemFile | null,
    private readonly hash: UpcaseTable | null,
  ) {
    this.blockSize = bs.bytesPerCluster;
    this.size = bs.volumeLength * bs.bytesPerSector;
    const sn = bs.volumeSerialNumber;
    this.uuid =
      `${(sn >>> 16).toString(16).padStart(4, "0")}-${(sn & 0xffff).toString(16).padStart(4, "0")}`.toUpperCase();
  }

  static async mount(device: BlockDevice): Promise<ExfatFileSystem> {
    if (device.size < 24 * 512)
      throw new FsError("FS_CORRUPT", "the volume is smaller than its two boot regions", "boot region", 0);
    const findings: FsFinding[] = [];
    const first = await device.read(0, 512);
    let bs: ExfatBootSector;
    try {
      bs = parseBootSector(first, device.size);
      const region = await device.read(0, 12 * bs.bytesPerSector);
      if (!bootChecksumValid(region, bs.bytesPerSector)) {
        findings.push({
          severity: "error",
          code: "EXFAT_BOOT_CHECKSUM",
          message: "the main boot region's checksum does not match sectors 0–10",
          structure: "boot checksum",
          offset: 11 * bs.bytesPerSector,
        });
      }
    } catch (e) {
      // §3.1: the backup boot region (sectors 12–23) stands in for a main boot sector that is damaged.
      if (!(e instanceof FsError) || e.code === "FS_UNKNOWN") throw e;
      const shift = first[108] >= 9 && first[108] <= 12 ? first[108] : 9;
      const at = 12 << shift;
      bs = parseBootSector(await device.read(at, 512), device.size, at);
      findings.push({
        severity: "warning",
        code: "EXFAT_BACKUP_BOOT",
        message: `the main boot sector is damaged (${e.message}); the backup boot sector is used`,
        structure: "exFAT boot sector",
        offset: 0,
      });
    }
    if (bs.volumeFlags & VOLUME_DIRTY) {
      findings.push({
        severity: "warning",
        code: "EXFAT_VOLUME_DIRTY",
        message:
          "the volume is marked dirty (VolumeDirty): it was not unmounted cleanly; what is shown is the on-disk state",
        structure: "VolumeFlags",
        offset: 106,
      });
    }
    if (bs.volumeFlags & MEDIA_FAILURE) {
      findings.push({
        severity: "warning",
        code: "EXFAT_MEDIA_FAILURE",
        message: "the volume reports media failures (MediaFailure)",
        structure: "VolumeFlags",
        offset: 106,
      });
    }
    const fat = new ExfatFat(device, bs);
    let label = "";
    let bitmap: SystemFile | null = null;
    let upcase: SystemFile | null = null;
    let upcaseChecksum = 0;
    const rootRuns = await fat.runs(bs.firstClusterOfRootDirectory, null, false, "the root directory");
    const root = await readRuns(device, fat, rootRuns, Math.min(MAX_DIRECTORY_BYTES, countBytes(rootRuns, bs)));
    for (let at = 0; at + ENTRY_SIZE <= root.length; at += ENTRY_SIZE) {
      const t = root[at];
      if (t === TYPE_END) break;
      if (t === TYPE_VOLUME_LABEL) {
        const n = Math.min(11, root[at + 1]);
        label = String.fromCharCode(...Array.from({ length: n }, (_, i) => u16(root, at + 2 + 2 * i)));
      } else if (t === TYPE_ALLOCATION_BITMAP && !bitmap) {
        bitmap = { first: u32(root, at + 20), length: u64(root, at + 24) };
      } else if (t === TYPE_UPCASE_TABLE) {
        upcase = { first: u32(root, at + 20), length: u64(root, at + 24) };
        upcaseChecksum = u32(root, at + 4);
      }
    }
    let hash: UpcaseTable | null = null;
    if (upcase && upcase.length > 0 && upcase.length <= 128 * 1024 && fat.isValidCluster(upcase.first)) {
      const runs = await fat.runs(upcase.first, upcase.length, false, "the up-case table");
      const bytes = await readRuns(device, fat, runs, upcase.length);
      if (tableChecksum(bytes) !== upcaseChecksum) {
        findings.push({
          severity: "warning",
          code: "EXFAT_UPCASE_CHECKSUM",
          message: "the up-case table's TableChecksum does not match its bytes; name hashes are not checked",
          structure: "up-case table",
          offset: fat.clusterOffset(upcase.first),
        });
      } else hash = UpcaseTable.parse(bytes, fat.clusterOffset(upcase.first));
    } else {
      findings.push({
        severity: "warning",
        code: "EXFAT_NO_UPCASE",
        message: "the root directory names no usable up-case table; name hashes are not checked",
        structure: "root directory",
      });
    }
    return new ExfatFileSystem(device, bs, fat, label, findings, bitmap, upcase, hash);
  }

  async root(): Promise<FsEntry> {
    return {
      name: "",
      path: "",
      type: "dir",
      size: 0,
      mtime: null,
      attributes: ATTR_DIRECTORY,
      ref: [this.bs.firstClusterOfRootDirectory, -1, 0, -1, -1],
    };
  }

  /** §7.2: names compare through the up-case table (per code unit where the table is missing). */
  foldName(name: string): string {
    return this.hash ? this.hash.upcase(name) : upcaseUnits(name);
  }

  /** The clusters of a directory, and how many of its bytes to read. */
  private async dirRuns(dir: FsEntry): Promise<{ runs: ClusterRun[]; bytes: number }> {
    const r = refOf(dir);
    const length = r.dataLength < 0 ? null : Math.min(r.dataLength, MAX_DIRECTORY_BYTES);
    const runs = await this.fat.runs(r.first, length, r.noFatChain, dir.path || "the root directory");
    return { runs, bytes: Math.min(length ?? Infinity, countBytes(runs, this.bs), MAX_DIRECTORY_BYTES) };
  }

  async *readDir(dir: FsEntry): AsyncIterable<FsEntry> {
    if (dir.type !== "dir") throw new FsError("FS_NOT_A_DIRECTORY", `${dir.path || "/"} is not a directory`, "path");
    const { runs, bytes } = await this.dirRuns(dir);
    // Pieces of the directory in order; an entry set that crosses a piece's end is carried over.
    let carry = new Uint8Array(0);
    let done = 0;
    for (const piece of pieces(runs, this.bs, bytes)) {
      const fresh = await this.device.read(this.fat.clusterOffset(piece.cluster) + piece.skip, piece.length);
      const buf = carry.length ? concat(carry, fresh) : fresh;
      const bufStart = done - carry.length;
      done += piece.length;
      const last = done >= bytes;
      let at = 0;
      for (; at + ENTRY_SIZE <= buf.length;) {
        const t = buf[at];
        if (t === TYPE_END) return;
        if (t === TYPE_FILE) {
          const need = (1 + buf[at + 1]) * ENTRY_SIZE;
          if (at + need > buf.length && !last) break;
          const dirAt = bufStart + at;
          const where = this.entryDeviceOffset(runs, dirAt);
          const hash = this.hash;
          const { set, length, finding } = decodeEntrySet(
            buf,
            at,
            where - at,
            hash ? (n) => hash.nameHash(n) : undefined,
          );
          at += length;
          if (!set) {
            if (finding) yield this.brokenEntry(dir, finding, dirAt);
            continue;
          }
          const type = set.isDirectory ? "dir" : "file";
          const findings = [...set.findings];
          yield {
            name: set.name,
            path: dir.path ? `${dir.path}/${set.name}` : set.name,
            type,
            size: type === "dir" ? 0 : set.dataLength,
            mtime: set.mtime,
            mtimeIsLocal: set.timesLocal || undefined,
            ctime: set.ctime,
            atime: set.atime,
            attributes: set.attributes,
            ref: [set.firstCluster, set.dataLength, set.noFatChain ? 1 : 0, set.validDataLength, where],
            findings: findings.length ? findings : undefined,
          };
          continue;
        }
        at += ENTRY_SIZE;
      }
      carry = buf.slice(at);
    }
  }

  private brokenEntry(dir: FsEntry, finding: FsFinding, at: number): FsEntry {
    const name = `(damaged entry at byte ${at})`;
    return {
      name,
      path: dir.path ? `${dir.path}/${name}` : name,
      type: "other",
      size: 0,
      mtime: null,
      ref: [0, 0, 0, 0, finding.offset ?? -1],
      findings: [finding],
    };
  }

  private entryDeviceOffset(runs: ClusterRun[], dirOffset: number): number {
    const per = this.bs.bytesPerCluster;
    let skip = dirOffset;
    for (const r of runs) {
      if (skip < r.count * per) return this.fat.clusterOffset(r.first) + skip;
      skip -= r.count * per;
    }
    return -1;
  }

  async *extents(file: FsEntry): AsyncIterable<FileExtent> {
    if (file.type !== "file") throw new FsError("FS_NOT_A_FILE", `${file.path || "/"} is not a regular file`, "path");
    const r = refOf(file);
    if (r.dataLength === 0) return;
    const runs = await this.fat.runs(r.first, r.dataLength, r.noFatChain, file.path);
    const per = this.bs.bytesPerCluster;
    let at = 0;
    for (const run of runs) {
      const end = Math.min(r.dataLength, at + run.count * per);
      const valid = Math.min(end, Math.max(at, r.validDataLength));
      // §7.7.5: bytes past ValidDataLength read as zeros whatever the clusters hold.
      if (valid > at) yield { fileOffset: at, length: valid - at, deviceOffset: this.fat.clusterOffset(run.first) };
      if (end > valid) yield { fileOffset: valid, length: end - valid, deviceOffset: null };
      at = end;
    }
  }

  async read(file: FsEntry, offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(file.size, offset + Math.max(0, length));
    const out = new Uint8Array(Math.max(0, end - offset));
    if (out.length === 0) return out;
    for await (const x of this.extents(file)) {
      const s = Math.max(offset, x.fileOffset);
      const e = Math.min(end, x.fileOffset + x.length);
      if (e <= s || x.deviceOffset === null) continue;
      out.set(await this.device.read(x.deviceOffset + (s - x.fileOffset), e - s), s - offset);
      if (x.fileOffset + x.length >= end) break;
    }
    return out;
  }

  async ownerOf(offset: number): Promise<Owner> {
    const bs = this.bs;
    const sector = bs.bytesPerSector;
    if (offset < 12 * sector) return { kind: "structure", structure: "main boot region" };
    if (offset < 24 * sector) return { kind: "structure", structure: "backup boot region" };
    for (let i = 0; i < bs.numberOfFats; i++) {
      const s = (bs.fatOffset + i * bs.fatLength) * sector;
      if (offset >= s && offset < s + bs.fatLength * sector) return { kind: "structure", structure: `FAT ${i + 1}` };
    }
    const heap = bs.clusterHeapOffset * sector;
    const cluster = offset >= heap ? Math.floor((offset - heap) / bs.bytesPerCluster) + 2 : -1;
    if (cluster < 2 || cluster > bs.clusterCount + 1) return { kind: "structure", structure: "reserved sectors" };
    if (!this.owners) this.owners = OwnerIndex.build(this);
    return (await this.owners).owner(this, cluster, offset);
  }
}

function countBytes(runs: ClusterRun[], bs: ExfatBootSector): number {
  return runs.reduce((n, r) => n + r.count * bs.bytesPerCluster, 0);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** [cluster, skip, length] pieces of at most DIR_PIECE bytes over the runs, `bytes` in all. */
function* pieces(runs: ClusterRun[], bs: ExfatBootSector, bytes: number) {
  let left = bytes;
  for (const r of runs) {
    const runBytes = r.count * bs.bytesPerCluster;
    for (let skip = 0; skip < runBytes && left > 0;) {
      const length = Math.min(DIR_PIECE, runBytes - skip, left);
      yield { cluster: r.first, skip, length };
      skip += length;
      left -= length;
    }
    if (left <= 0) return;
  }
}

async function readRuns(device: BlockDevice, fat: ExfatFat, runs: ClusterRun[], bytes: number): Promise<Uint8Array> {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of pieces(runs, fat.bs, bytes)) {
    out.set(await device.read(fat.clusterOffset(p.cluster) + p.skip, p.length), at);
    at += p.length;
  }
  return out;
}

export const exfatDriver: FsDriver = {
  name: "exfat",
  probe: (head) => looksLikeExfat(head),
  mount: (device) => ExfatFileSystem.mount(device),
};

export { readRuns };
