/**
 * The file-system layer's contracts. Everything in src/fs/ reads a `BlockDevice` — a VHDX image,
 * a differencing chain, a raw file, a VHD, or a partition of any of them — and knows nothing of
 * the container it reads from (The Sleuth Kit's split between img/, vs/ and fs/).
 */

/** A readable run of bytes: the whole virtual disk, or one partition of it. */
export interface BlockDevice {
  /** Length in bytes. */
  readonly size: number;
  /** `length` bytes at `offset`; a read past `size` is the caller's error, not short. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** What a directory entry is, as `vhdx ls --json` prints it. */
export type EntryType = "file" | "dir" | "symlink" | "other";

/** A problem found in a file system's structures: never thrown for a single entry, shown on it. */
export interface FsFinding {
  severity: "error" | "warning" | "info";
  /** Stable code, e.g. "EXT4_CHECKSUM", "FAT_CHAIN_LOOP". */
  code: string;
  message: string;
  /** The structure as the format's documents name it: "superblock", "inode 12", "FAT 2", … */
  structure: string;
  /** Byte offset on the device the file system was mounted from (not the whole disk). */
  offset?: number;
}

/**
 * One entry of a directory, or the root. `ref` is the file system's own handle (an inode
 * number, a first cluster with its directory entry's place, an MFT reference …): pass the entry
 * back to `readDir`, `extents`, `read` as it came; it is plain data and survives structured clone.
 */
export interface FsEntry {
  /** The name as stored, decoded (UTF-8 for ext, UTF-16 for FAT long names and NTFS). */
  name: string;
  /** From the root, "/"-separated, no leading slash; "" for the root itself. */
  path: string;
  type: EntryType;
  /** Bytes: the file's length; for a symlink the target's length; 0 where the format has none. */
  size: number;
  /** Modification time in ms since 1970-01-01 UTC, or null when the format keeps none. */
  mtime: number | null;
  /** True where the format stores local time without a zone (FAT): `mtime` then reads the stored fields as UTC. */
  mtimeIsLocal?: boolean;
  /** Other times the format keeps, same convention. */
  atime?: number | null;
  ctime?: number | null;
  crtime?: number | null;
  /** Symlink target, as stored. */
  target?: string;
  /** POSIX mode bits (ext), or undefined. */
  mode?: number;
  /** Format attribute bits (FAT/NTFS/exFAT), or undefined. */
  attributes?: number;
  /** Hard link count where the format keeps one. */
  links?: number;
  uid?: number;
  gid?: number;
  ref: FsRef;
  /** Problems met while decoding this entry (a bad checksum, a chain that loops …). */
  findings?: FsFinding[];
  /** Built by `readDirFast` from the directory alone: `stat` gives the whole entry. */
  partial?: boolean;
}

/** Entry types by number, in `EntryColumns.types`. */
export const ENTRY_TYPES: readonly EntryType[] = ["file", "dir", "symlink", "other"];

/** A run of a directory's entries (as `readDirFast` makes them) in columns: entry i is `names[i]` …. */
export interface EntryColumns {
  names: string[];
  /** Index into `ENTRY_TYPES`. */
  types: Uint8Array;
  sizes: Float64Array;
  /** `mtime`, NaN for none. */
  mtimes: Float64Array;
  /** Entry i as `readDirFast` gives it (`partial`). */
  entry(i: number): FsEntry;
}

/** A file system's own handle for an entry. Plain data only. */
export type FsRef = number | string | readonly (number | string)[];

/**
 * Where a run of a file's bytes lies. `deviceOffset` null: the run reads as zeros (a hole, an
 * uninitialized extent, bytes past the valid data length). `encoded`: the run's bytes on the
 * device are not the file's bytes (compressed); `deviceOffset`/`deviceLength` then say where the
 * encoded bytes lie, and `read` is the only way to the file's bytes.
 */
export interface FileExtent {
  fileOffset: number;
  length: number;
  deviceOffset: number | null;
  deviceLength?: number;
  encoded?: boolean;
}

/** Who owns a byte of the device. */
export type Owner =
  | { kind: "file"; path: string; fileOffset: number; entry: FsEntry }
  | { kind: "structure"; structure: string; path?: string }
  | { kind: "free" }
  | { kind: "unknown" };

/** A mounted, read-only file system. */
export interface FileSystem {
  /** "ext2" | "ext3" | "ext4" | "fat12" | "fat16" | "fat32" | "ntfs" | "exfat". */
  readonly type: string;
  readonly label: string;
  /** Volume UUID / serial as the format's tools print it. */
  readonly uuid: string;
  readonly blockSize: number;
  /** The volume's length in bytes as the file system sees it. */
  readonly size: number;
  /** List the format's metafiles too (NTFS: $MFT, $LogFile …); formats without them ignore it. */
  showSystem?: boolean;
  /** Volume-level findings: needs_recovery, FATs that disagree, a backup superblock used … */
  readonly findings: readonly FsFinding[];
  /**
   * A name as the format compares names when looking one up: FAT, exFAT and NTFS ignore case
   * (exFAT through its up-case table, NTFS through $UpCase). Formats that compare names byte for
   * byte (ext) leave it out.
   */
  foldName?(name: string): string;
  root(): Promise<FsEntry>;
  /** Every entry of a directory except "." and "..", in on-disk order; bounded by what is read. */
  readDir(dir: FsEntry): AsyncIterable<FsEntry>;
  /** Optional: `readDir`'s entries, in the same order, a run at a time (one await per run, not per entry). */
  readDirRuns?(dir: FsEntry): AsyncIterable<FsEntry[]>;
  /**
   * Optional: a directory's entries from the directory alone, without reading each file's own
   * record — names, and the type, size and times the directory keeps (NTFS index keys, which
   * Windows may leave stale) — marked `partial`; alternate streams are not listed. A folder of
   * 100,000 names is listed at the cost of its index, not of 100,000 records. Entries come a run
   * at a time (each array in directory order), not one promise per entry.
   */
  readDirFast?(dir: FsEntry): AsyncIterable<FsEntry[]>;
  /**
   * Optional: `readDirFast`'s entries as columns, a run at a time, so a folder of 100,000 names
   * is counted and sorted without an object per entry; `entry(i)` makes one when it is shown.
   */
  readDirColumns?(dir: FsEntry): AsyncIterable<EntryColumns>;
  /** Optional: the whole entry for one `readDirFast` gave (as `readDir` gives it, without its streams). */
  stat?(entry: FsEntry): Promise<FsEntry>;
  /** Where the file's bytes lie, in file order, covering [0, size) with no gaps. */
  extents(file: FsEntry): AsyncIterable<FileExtent>;
  /** `length` bytes of the file from `offset` (clipped to its size). */
  read(file: FsEntry, offset: number, length: number): Promise<Uint8Array>;
  /** Which file or structure holds the device byte at `offset`. May build an index on first call. */
  ownerOf(offset: number): Promise<Owner>;
}

/** A file system driver: recognises its format by signature, never by partition type alone. */
export interface FsDriver {
  /** "ext", "fat", "ntfs", "exfat". */
  readonly name: string;
  /** Cheap test on the device's first 64 KiB (or less, if the device is smaller). */
  probe(head: Uint8Array, device: BlockDevice): boolean;
  mount(device: BlockDevice): Promise<FileSystem>;
}
