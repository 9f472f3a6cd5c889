/**
 * An NTFS volume as a read-only `FileSystem`. An entry's ref is `[record, stream, sequence]`:
 * the MFT record, the $DATA stream's name ("" for the file's own data, else an alternate data
 * stream listed as `name:stream`), and the sequence number the directory entry expects.
 */
import { FsError } from "../errors";
import type { BlockDevice, EntryColumns, FileExtent, FileSystem, FsDriver, FsEntry, FsFinding, Owner } from "../types";
import { upcaseUnits } from "../walk";
import {
  AT_DATA,
  AT_FILE_NAME,
  AT_REPARSE_POINT,
  AT_STANDARD_INFORMATION,
  AT_VOLUME_INFORMATION,
  AT_VOLUME_NAME,
  ATTR_FLAG_ENCRYPTED,
  type Attribute,
} from "./attribute";
import { looksLikeNtfs, parseBootSector, type NtfsBootSector } from "./bootSector";
import { filetime, u16, u32, utf16 } from "./bytes";
import { FILE_ATTRIBUTE_ENCRYPTED, FILE_ATTRIBUTE_SYSTEM, NS_DOS, parseFileName, type FileName } from "./fileName";
import type { IndexEntry } from "./indexNode";
import { walkIndex } from "./indexWalk";
import { Mft } from "./mft";
import { RECORD_IN_USE, RECORD_IS_DIRECTORY, type MftRecord } from "./mftRecord";
import { KeyColumns } from "./keyColumns";
import { OwnerIndex } from "./owners";
import { completeFromRecord } from "./recordScan";
import { parseReparsePoint } from "./reparse";
import { readStream, streamExtents, streamOf, type Stream } from "./stream";

export const ROOT_RECORD = 5;
/** Records below this are the metafiles ($MFT … $Extend and reserved ones). */
export const FIRST_USER_RECORD = 24;
const UPCASE_RECORD = 10;

export interface NtfsOptions {
  /** List the metafiles ($MFT, $LogFile, $Bitmap …) in the root and $Extend. */
  system?: boolean;
}

/** A file's record, with every attribute gathered (extension records included). */
interface Loaded {
  record: MftRecord;
  attributes: Attribute[];
}

function refOf(e: FsEntry): { record: number; stream: string } {
  const r = e.ref;
  if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== "number" || typeof r[1] !== "string") {
    throw new FsError("FS_NOT_FOUND", `not an entry of this NTFS volume: ${e.path}`, "index entry");
  }
  return { record: r[0] as number, stream: r[1] as string };
}

/** The index entry a listed entry came from (its key's name and fields kept on the entry). */
function indexEntryOf(e: FsEntry): IndexEntry {
  const r = e.ref as readonly (number | string)[];
  return { record: r[0] as number, sequence: r[2] as number, key: null, child: null };
}

/** The $FILE_NAME key a listed entry came from, as far as the entry keeps it. */
function keyOf(e: FsEntry): FileName {
  return {
    parent: 0,
    parentSequence: 0,
    ctime: e.ctime ?? null,
    mtime: e.mtime,
    atime: e.atime ?? null,
    dataSize: e.size,
    flags: e.attributes ?? 0,
    namespace: 0,
    name: e.name,
  };
}

export class NtfsFileSystem implements FileSystem {
  readonly type = "ntfs";
  readonly blockSize: number;
  readonly size: number;
  readonly uuid: string;
  showSystem: boolean;
  private owners: Promise<OwnerIndex> | null = null;

  private constructor(
    readonly device: BlockDevice,
    readonly bs: NtfsBootSector,
    readonly mft: Mft,
    readonly label: string,
    readonly findings: FsFinding[],
    opts: NtfsOptions,
    private readonly upcase: Uint16Array | null,
  ) {
    this.blockSize = bs.bytesPerCluster;
    this.size = bs.totalSectors * bs.bytesPerSector;
    this.uuid = bs.serialNumber;
    this.showSystem = !!opts.system;
  }

  static async mount(device: BlockDevice, opts: NtfsOptions = {}): Promise<NtfsFileSystem> {
    const findings: FsFinding[] = [];
    let bs: NtfsBootSector;
    try {
      bs = parseBootSector(await device.read(0, 512), device.size);
    } catch (e) {
      if (!(e instanceof FsError) || device.size < 1024) throw e;
      // The backup boot sector lies in the volume's last sector.
      const at = device.size - 512;
      bs = parseBootSector(await device.read(at, 512), device.size, at);
      findings.push({
        severity: "warning",
        code: "NTFS_BACKUP_BOOT",
        message: `the boot sector is damaged (${e.message}); the backup in the last sector is used`,
        structure: "NTFS boot sector",
        offset: 0,
      });
    }
    const mft = await Mft.open(device, bs);
    await compareMirror(device, bs, findings);
    let label = "";
    try {
      const vol = await mft.record(3);
      const name = vol.attributes.find((a) => a.type === AT_VOLUME_NAME);
      if (name?.value) label = utf16(name.value, 0, name.value.length / 2);
      const info = vol.attributes.find((a) => a.type === AT_VOLUME_INFORMATION);
      if (info?.value && info.value.length >= 12 && u16(info.value, 10) & 0x1) {
        findings.push({
          severity: "warning",
          code: "NTFS_VOLUME_DIRTY",
          message:
            "the volume is marked dirty: it was not unmounted cleanly and $LogFile may hold operations to replay; what is shown is the on-disk state",
          structure: "$Volume",
          offset: info.recordOffset,
        });
      }
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      findings.push({
        severity: "warning",
        code: "NTFS_VOLUME_RECORD",
        message: `$Volume cannot be read: ${e.message}`,
        structure: "$Volume",
      });
    }
    const upcase = await readUpcase(device, bs, mft, findings);
    return new NtfsFileSystem(device, bs, mft, label, findings, opts, upcase);
  }

  /** Names compare through $UpCase, one UTF-16 code unit at a time (per unit in JavaScript's rules where $UpCase is unreadable). */
  foldName(name: string): string {
    const map = this.upcase;
    if (!map) return upcaseUnits(name);
    let out = "";
    for (let i = 0; i < name.length; i++) out += String.fromCharCode(map[name.charCodeAt(i)]);
    return out;
  }

  async load(n: number): Promise<Loaded> {
    const record = await this.mft.record(n);
    if (!(record.flags & RECORD_IN_USE))
      throw new FsError("FS_NOT_FOUND", `MFT record ${n} is not in use`, `MFT record ${n}`);
    return { record, attributes: await this.mft.attributesOf(record) };
  }

  async root(): Promise<FsEntry> {
    const { record, attributes } = await this.load(ROOT_RECORD);
    const si = attributes.find((a) => a.type === AT_STANDARD_INFORMATION)?.value;
    return {
      name: "",
      path: "",
      type: "dir",
      size: 0,
      mtime: si ? filetime(si, 8) : null,
      ref: [ROOT_RECORD, "", record.sequence],
    };
  }

  /**
   * A directory's listed entries as its index keys give them, in the index's order, a run at a
   * time in columns: no DOS aliases, no ".", metafiles only when asked. Each key's name is
   * decoded once; its other fields go into number arrays, not an object per entry.
   */
  async *readDirColumns(dir: FsEntry): AsyncIterable<EntryColumns> {
    if (dir.type !== "dir") throw new FsError("FS_NOT_A_DIRECTORY", `${dir.path || "/"} is not a directory`, "path");
    const { record } = refOf(dir);
    const loaded = await this.load(record);
    const prefix = dir.path ? `${dir.path}/` : "";
    // Metafiles' names start with "$" and lie in the root and $Extend (record 11).
    const hideSystem = !this.showSystem && (record === ROOT_RECORD || record === 11);
    const owner = {
      device: this.device,
      bytesPerCluster: this.bs.bytesPerCluster,
      indexRecordSize: this.bs.indexRecordSize,
    };
    let keys = new KeyColumns();
    const walk = walkIndex<string>(owner, loaded.attributes, record, dir.path, (b, k, _length, file, sequence) => {
      // The DOS 8.3 alias is a second key for a name already listed in the Win32 namespace.
      if (b[k + 0x41] === NS_DOS) return null;
      const name = utf16(b, k + 0x42, b[k + 0x40]);
      if (file === record && name === ".") return null;
      if (hideSystem && file < FIRST_USER_RECORD && name.charCodeAt(0) === 0x24) return null;
      keys.add(b, k, file, sequence);
      return name;
    });
    // The walk is paused at each run it gives, so the keys gathered are that run's.
    for await (const names of walk) {
      yield keys.columns(names, prefix);
      keys = new KeyColumns();
    }
  }

  /**
   * The index keys alone: each $FILE_NAME key keeps the type, the size and the times as last
   * indexed. A reparse point shows as "other" until `stat` reads its record.
   */
  async *readDirFast(dir: FsEntry): AsyncIterable<FsEntry[]> {
    for await (const c of this.readDirColumns(dir)) {
      const out: FsEntry[] = new Array(c.names.length);
      for (let i = 0; i < out.length; i++) out[i] = c.entry(i);
      yield out;
    }
  }

  async *readDir(dir: FsEntry): AsyncIterable<FsEntry> {
    for await (const run of this.readDirRuns(dir)) yield* run;
  }

  /**
   * `readDir`'s entries a run at a time. Each key's entry is completed from its file's MFT record,
   * read from the MFT's pieces in memory (an await only where a piece must be read); records out
   * of the common case take the full read.
   */
  async *readDirRuns(dir: FsEntry): AsyncIterable<FsEntry[]> {
    const scratch = new Uint8Array(this.bs.mftRecordSize);
    const clusters = this.mft.clusters;
    for await (const c of this.readDirColumns(dir)) {
      const run: FsEntry[] = new Array(c.names.length);
      for (let i = 0; i < run.length; i++) run[i] = c.entry(i);
      const out: FsEntry[] = [];
      for (const e of run) {
        const n = (e.ref as readonly number[])[0];
        let raw = this.mft.storedRecord(n);
        if (raw === undefined) {
          try {
            raw = await this.mft.loadRecord(n);
          } catch (err) {
            if (!(err instanceof FsError)) throw err;
          }
        }
        if (raw !== undefined && completeFromRecord(e, raw, scratch, clusters)) out.push(e);
        else for await (const x of this.entriesFor(dir, indexEntryOf(e), keyOf(e))) out.push(x);
      }
      yield out;
    }
  }

  async stat(entry: FsEntry): Promise<FsEntry> {
    const { record } = refOf(entry);
    const i = entry.path.lastIndexOf("/");
    const dir: FsEntry = {
      name: "",
      path: i < 0 ? "" : entry.path.slice(0, i),
      type: "dir",
      size: 0,
      mtime: null,
      ref: [],
    };
    for await (const e of this.entriesFor(dir, indexEntryOf(entry), keyOf(entry))) return e;
    throw new FsError("FS_NOT_FOUND", `${entry.path}: MFT record ${record} lists no entry`, `MFT record ${record}`);
  }

  /** The entry for one name of a file, then one per alternate data stream. */
  private async *entriesFor(dir: FsEntry, ie: IndexEntry, key: FileName): AsyncGenerator<FsEntry> {
    const path = dir.path ? `${dir.path}/${key.name}` : key.name;
    let loaded: Loaded;
    try {
      loaded = await this.load(ie.record);
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      yield {
        name: key.name,
        path,
        type: "other",
        size: key.dataSize,
        mtime: key.mtime,
        ref: [ie.record, "", ie.sequence],
        findings: [
          { severity: "error", code: "NTFS_RECORD", message: e.message, structure: e.structure, offset: e.offset },
        ],
      };
      return;
    }
    const findings: FsFinding[] = [];
    if (loaded.record.sequence !== ie.sequence && ie.sequence !== 0) {
      findings.push({
        severity: "warning",
        code: "NTFS_STALE_ENTRY",
        message: `the index names sequence ${ie.sequence} of MFT record ${ie.record}, which is at ${loaded.record.sequence}`,
        structure: "index entry",
      });
    }
    const si = loaded.attributes.find((a) => a.type === AT_STANDARD_INFORMATION)?.value ?? null;
    const attributes = si && si.length >= 0x24 ? u32(si, 0x20) : key.flags;
    const mtime = si ? filetime(si, 8) : key.mtime;
    const ctime = si ? filetime(si, 0) : key.ctime;
    const atime = si ? filetime(si, 0x18) : key.atime;
    const links = loaded.record.links;
    const sequence = loaded.record.sequence;
    const found = findings.length ? findings : undefined;
    // One literal per entry (a spread of shared fields costs microseconds each, 100,000 times a folder).
    const entry = (
      name: string,
      p: string,
      type: FsEntry["type"],
      size: number,
      stream: string,
      target?: string,
    ): FsEntry => ({
      name,
      path: p,
      type,
      size,
      mtime,
      ctime,
      atime,
      attributes,
      links,
      target,
      ref: [ie.record, stream, sequence],
      findings: found,
    });
    const isDir = (loaded.record.flags & RECORD_IS_DIRECTORY) !== 0;
    const reparse = loaded.attributes.find((a) => a.type === AT_REPARSE_POINT);
    if (reparse) {
      const rp = parseReparsePoint(await this.mft.attributeValue(reparse, path));
      if (rp.kind !== "other") {
        yield entry(key.name, path, "symlink", 0, "", rp.target ?? "");
        return;
      }
      if (!isDir) {
        yield entry(key.name, path, "other", 0, "");
        return;
      }
    }
    const data = loaded.attributes.filter((a) => a.type === AT_DATA);
    const main = data.filter((a) => a.name === "");
    const mainSize = main.find((a) => a.lowestVcn === 0)?.dataSize ?? 0;
    const interix =
      !isDir && attributes & FILE_ATTRIBUTE_SYSTEM ? await this.interixTarget(main, mainSize, path) : null;
    if (interix !== null) {
      yield entry(key.name, path, "symlink", 0, "", interix);
      return;
    }
    yield entry(key.name, path, isDir ? "dir" : "file", isDir ? 0 : mainSize, "");
    const streams = new Map<string, number>();
    for (const a of data) if (a.name && a.lowestVcn === 0) streams.set(a.name, a.dataSize);
    for (const [name, size] of streams) yield entry(`${key.name}:${name}`, `${path}:${name}`, "file", size, name);
  }

  /**
   * An Interix symbolic link (what ntfs-3g and Services for Unix write): a system file whose data
   * is "IntxLNK\x01" and the target in UTF-16LE. Null when the file is not one.
   */
  private async interixTarget(main: Attribute[], size: number, path: string): Promise<string | null> {
    if (size < 8 || size > 8192 || main.length === 0) return null;
    const bytes = await readStream(this.device, streamOf(main, this.bs.bytesPerCluster, path), 0, size);
    const magic = "IntxLNK\x01";
    for (let i = 0; i < 8; i++) if (bytes[i] !== magic.charCodeAt(i)) return null;
    return utf16(bytes, 8, (size - 8) >> 1);
  }

  private async streamFor(file: FsEntry): Promise<Stream> {
    if (file.type !== "file") throw new FsError("FS_NOT_A_FILE", `${file.path || "/"} is not a regular file`, "path");
    const { record, stream } = refOf(file);
    const loaded = await this.load(record);
    const pieces = loaded.attributes.filter((a) => a.type === AT_DATA && a.name === stream);
    if (pieces.length === 0)
      throw new FsError("FS_NOT_FOUND", `${file.path}: no $DATA stream "${stream}"`, `MFT record ${record}`);
    const si = loaded.attributes.find((a) => a.type === AT_STANDARD_INFORMATION)?.value;
    if (
      pieces.some((a) => a.flags & ATTR_FLAG_ENCRYPTED) ||
      (si && si.length >= 0x24 && u32(si, 0x20) & FILE_ATTRIBUTE_ENCRYPTED)
    ) {
      throw new FsError(
        "FS_ENCRYPTED",
        `${file.path} is encrypted with EFS; its bytes cannot be read without the user's key`,
        `MFT record ${record}`,
      );
    }
    return streamOf(pieces, this.bs.bytesPerCluster, file.path);
  }

  async *extents(file: FsEntry): AsyncIterable<FileExtent> {
    const s = await this.streamFor(file);
    if (s.value) {
      // A resident stream's bytes live inside its MFT record, where the record's fixups may stand
      // in for two of them: encoded, so readers take them through `read`.
      if (s.dataSize > 0) {
        yield {
          fileOffset: 0,
          length: s.dataSize,
          deviceOffset: s.valueDeviceOffset,
          deviceLength: s.dataSize,
          encoded: true,
        };
      }
      return;
    }
    yield* streamExtents(s);
  }

  async read(file: FsEntry, offset: number, length: number): Promise<Uint8Array> {
    return readStream(this.device, await this.streamFor(file), offset, length);
  }

  async ownerOf(offset: number): Promise<Owner> {
    if (offset < this.bs.bytesPerSector) return { kind: "structure", structure: "boot sector" };
    if (offset >= this.size) return { kind: "structure", structure: "backup boot sector" };
    if (!this.owners) this.owners = OwnerIndex.build(this);
    return (await this.owners).owner(this, offset);
  }
}

/** $MFTMirr keeps a copy of the first records (at least $MFT … $Volume); a mismatch is a finding. */
/** $UpCase (MFT record 10): 65,536 UTF-16 code units, each one's upper case; null (with a finding) when unreadable. */
async function readUpcase(
  device: BlockDevice,
  bs: NtfsBootSector,
  mft: Mft,
  findings: FsFinding[],
): Promise<Uint16Array | null> {
  try {
    const rec = await mft.record(UPCASE_RECORD);
    const data = (await mft.attributesOf(rec)).filter((a) => a.type === AT_DATA && a.name === "");
    const s = streamOf(data, bs.bytesPerCluster, "$UpCase");
    if (s.dataSize !== 131072)
      throw new FsError("FS_CORRUPT", `$UpCase holds ${s.dataSize} bytes, not 131072`, "$UpCase");
    const b = await readStream(device, s, 0, 131072);
    const map = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) map[i] = u16(b, 2 * i);
    return map;
  } catch (e) {
    if (!(e instanceof FsError)) throw e;
    findings.push({
      severity: "warning",
      code: "NTFS_UPCASE",
      message: `$UpCase cannot be read (${e.message}); names are compared in upper case by Unicode's rules`,
      structure: "$UpCase",
      offset: e.offset,
    });
    return null;
  }
}

async function compareMirror(device: BlockDevice, bs: NtfsBootSector, findings: FsFinding[]): Promise<void> {
  const count = 4;
  const at = bs.mftLcn * bs.bytesPerCluster;
  const mirror = bs.mftMirrLcn * bs.bytesPerCluster;
  const a = await device.read(at, count * bs.mftRecordSize);
  const b = await device.read(mirror, count * bs.mftRecordSize);
  for (let i = 0; i < count; i++) {
    const x = a.subarray(i * bs.mftRecordSize, (i + 1) * bs.mftRecordSize);
    const y = b.subarray(i * bs.mftRecordSize, (i + 1) * bs.mftRecordSize);
    if (x.some((v, j) => v !== y[j])) {
      findings.push({
        severity: "warning",
        code: "NTFS_MFTMIRR",
        message: `$MFTMirr's copy of MFT record ${i} differs from the MFT`,
        structure: "$MFTMirr",
        offset: mirror + i * bs.mftRecordSize,
      });
    }
  }
}

export const ntfsDriver: FsDriver = {
  name: "ntfs",
  probe: (head) => looksLikeNtfs(head),
  mount: (device) => NtfsFileSystem.mount(device),
};

export { AT_FILE_NAME, parseFileName };
