import {
  Bat,
  BatGeometry,
  payloadEntryIndex,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_NOT_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  sectorBitmapEntryIndex,
  SB_BLOCK_PRESENT,
} from "./bat";
import { MiB } from "./bytes";
import { hex, VhdxError } from "./errors";
import { Header, HeaderSlot } from "./header";
import { RandomAccess } from "./io";
import { DiskParameters, MetadataTable } from "./metadata";
import {
  HeaderSection,
  readBat,
  readHeaderSection,
  readMetadata,
  registerStructures,
  RegionTableSlot,
  Warning,
} from "./open";
import { isZeroGuid } from "./guid";
import { HeaderUpdater, LogScan, OverlayBackend, recoverLog } from "./log";
import { RegionRegistry } from "./registry";
import { RegionTableEntry } from "./regionTable";
import { FileMap, fileMap, ImageInfo, imageInfo, MapWindow } from "./info";
import { imageExtents, type DiskExtent } from "./allocation";

export type DiskType = "fixed" | "dynamic" | "differencing";

/** Anything that reads virtual disk bytes: a VHDX image, or a raw parent in tests. */
export interface VirtualDisk {
  readonly virtualSize: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Optional: `read` into a caller's buffer (streaming copies reuse theirs). */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  /**
   * Optional: ranges the host knows read as zeros without reading them, such as the holes of a
   * sparse file, sorted and not overlapping. A hint for streaming copies, which then skip those
   * reads: what is not listed is read. A host that is not sure of a range must leave it out.
   */
  knownZeroRanges?(): Promise<readonly ByteRange[]>;
  /**
   * Optional: where the bytes of [offset, offset + length) are, in order (see allocation.ts): runs
   * that read as zeros, and runs read from a file at an offset. Whole-disk copies use it to skip the
   * zeros and read the rest straight into their buffers.
   */
  extents?(offset: number, length: number): AsyncIterable<DiskExtent>;
}

/** Bytes [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Sector bitmap blocks kept in memory at once (1 MiB each). */
const SECTOR_BITMAP_CACHE = 8;

/** An open VHDX file: its parsed structures and the virtual disk they describe. */
export class VhdxImage implements VirtualDisk {
  /** The backend handed in. */
  readonly file: RandomAccess;
  /** What reads go through: `file`, or an in-memory overlay over it after a read-only log replay. */
  io: RandomAccess;
  fileSize: number;
  creator: string;
  headerSlots: [HeaderSlot, HeaderSlot];
  currentHeaderIndex: 0 | 1;
  regionTableSlots: [RegionTableSlot, RegionTableSlot];
  regions: RegionTableEntry[];
  batRegion: RegionTableEntry;
  metadataRegion: RegionTableEntry;
  metadataTable: MetadataTable;
  params: DiskParameters;
  bat: Bat;
  registry: RegionRegistry;
  warnings: Warning[];
  /** True when the file's log holds an active sequence not yet replayed into the file (shown replayed from memory). */
  logNeedsReplay = false;
  /** The log scan made at open when the header's LogGuid was set; null when the log was empty or replayed in place. */
  logScan: LogScan | null = null;
  /** The parent disk of a differencing image, once attached. */
  parent: VirtualDisk | null = null;
  private readonly bitmapCache = new Map<number, Uint8Array>();

  constructor(args: {
    file: RandomAccess;
    io: RandomAccess;
    fileSize: number;
    section: HeaderSection;
    metadataTable: MetadataTable;
    params: DiskParameters;
    bat: Bat;
    registry: RegionRegistry;
    warnings: Warning[];
  }) {
    this.file = args.file;
    this.io = args.io;
    this.fileSize = args.fileSize;
    const s = args.section;
    this.creator = s.creator;
    this.headerSlots = s.headerSlots;
    this.currentHeaderIndex = s.currentHeaderIndex;
    this.regionTableSlots = s.regionTableSlots;
    this.regions = s.regions;
    this.batRegion = s.batRegion;
    this.metadataRegion = s.metadataRegion;
    this.metadataTable = args.metadataTable;
    this.params = args.params;
    this.bat = args.bat;
    this.registry = args.registry;
    this.warnings = args.warnings;
  }

  /** The current header (§2.2.2). */
  get header(): Header {
    return this.headerSlots[this.currentHeaderIndex].header!;
  }

  get geometry(): BatGeometry {
    return this.bat.geometry;
  }

  get virtualSize(): number {
    return this.params.virtualDiskSize;
  }

  get blockSize(): number {
    return this.params.fileParameters.blockSize;
  }

  /** Differencing when HasParent; fixed when LeaveBlockAllocated; else dynamic. */
  get diskType(): DiskType {
    const fp = this.params.fileParameters;
    if (fp.hasParent) return "differencing";
    return fp.leaveBlockAllocated ? "fixed" : "dynamic";
  }

  /** Raw file bytes as the engine sees them (with a read-only replay applied). */
  readFile(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, Number.MAX_SAFE_INTEGER, "file");
    return this.io.read(offset, length);
  }

  /**
   * Virtual disk bytes (§2.5.1.1): FULLY_PRESENT from the file; PARTIALLY_PRESENT per the sector
   * bitmap, falling back to the parent; NOT_PRESENT from the parent of a differencing disk; every
   * other state reads as zeros.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.virtualSize, "virtual disk");
    const bs = this.blockSize;
    const first = Math.floor(offset / bs);
    const last = Math.floor((offset + length - 1) / bs);
    if (length > 0 && first === last) return this.readInBlock(first, offset - first * bs, length);
    const out = new Uint8Array(length);
    let pos = offset;
    while (pos < offset + length) {
      const block = Math.floor(pos / bs);
      const inBlock = pos - block * bs;
      const n = Math.min(bs - inBlock, offset + length - pos);
      out.set(await this.readInBlock(block, inBlock, n), pos - offset);
      pos += n;
    }
    return out;
  }

  /**
   * The virtual disk range as a stream of pieces, in order, with up to `parallel` file reads in
   * flight. Pieces that read as zeros share one buffer: callers must not modify what they get.
   * This is the whole-disk path (cat, convert); `read` is the random-access one.
   *
   * `reuse`: a piece is valid only until the next one is asked for; its buffer then serves a later
   * read. Spares an allocation (page faults, then garbage collection) per piece of file data.
   */
  async *segments(
    offset: number,
    length: number,
    opts: { chunk?: number; parallel?: number; reuse?: boolean } = {},
  ): AsyncGenerator<Uint8Array> {
    checkRange(offset, length, this.virtualSize, "virtual disk");
    const chunk = opts.chunk ?? Math.max(this.blockSize, 4 * MiB);
    const parallel = opts.parallel ?? 4;
    const zeros = new Uint8Array(chunk);
    const differencing = this.diskType === "differencing";
    const queue: (Promise<Uint8Array> | Uint8Array)[] = [];
    const pool: Uint8Array[] = [];
    const pooled = new Set<ArrayBufferLike>();
    let lent: Uint8Array | null = null;
    const direct = opts.reuse === true && this.io.readInto !== undefined;
    let pos = offset;
    const end = offset + length;
    const plan = (): void => {
      const bs = this.blockSize;
      const block = Math.floor(pos / bs);
      const n = Math.min(bs - (pos - block * bs), end - pos, chunk);
      const { entry, state, fileOffset } = this.blockLocation(block);
      const inFile =
        state === PAYLOAD_BLOCK_FULLY_PRESENT ||
        (differencing && (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT || state === PAYLOAD_BLOCK_NOT_PRESENT));
      const last = queue[queue.length - 1];
      if (!inFile && last instanceof Uint8Array && last.buffer === zeros.buffer && last.length + n <= chunk) {
        queue[queue.length - 1] = zeros.subarray(0, last.length + n); // coalesce zero runs
      } else if (direct && state === PAYLOAD_BLOCK_FULLY_PRESENT) {
        let buf = pool.pop();
        if (!buf) pooled.add((buf = new Uint8Array(chunk)).buffer);
        const target = buf.subarray(0, n);
        const at = fileOffset + (pos - block * bs);
        this.checkInFile(entry, at, n);
        queue.push(this.io.readInto!(at, target).then(() => target));
      } else queue.push(inFile ? this.read(pos, n) : zeros.subarray(0, n));
      pos += n;
    };
    while (pos < end || queue.length > 0) {
      // The piece handed out last is done with once the next one is asked for.
      if (lent) pool.push(lent);
      lent = null;
      while (pos < end && queue.filter((q) => !(q instanceof Uint8Array)).length < parallel) plan();
      const piece = await queue.shift()!;
      if (pooled.has(piece.buffer)) lent = new Uint8Array(piece.buffer);
      yield piece;
    }
  }

  /** The image's extents through its chain: see imageExtents. */
  extents(offset: number, length: number): AsyncGenerator<DiskExtent> {
    return imageExtents(this, offset, length);
  }

  /** Where block `block` lives: its BAT state and file offset (0 when not in the file). */
  blockLocation(block: number): { entry: number; state: number; fileOffset: number } {
    const entry = payloadEntryIndex(this.geometry, block);
    const state = this.bat.state(entry);
    return { entry, state, fileOffset: this.bat.fileOffsetMB(entry) * MiB };
  }

  private async readInBlock(block: number, inBlock: number, n: number): Promise<Uint8Array> {
    const { entry, state, fileOffset } = this.blockLocation(block);
    const virtualStart = block * this.blockSize + inBlock;
    if (state === PAYLOAD_BLOCK_FULLY_PRESENT) return this.readBlockBytes(entry, fileOffset + inBlock, n);
    if (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT && this.diskType === "differencing") {
      return this.readPartial(block, entry, fileOffset, inBlock, n);
    }
    if (state === PAYLOAD_BLOCK_NOT_PRESENT && this.diskType === "differencing")
      return this.readParent(virtualStart, n);
    return new Uint8Array(n);
  }

  private async readBlockBytes(entry: number, at: number, n: number): Promise<Uint8Array> {
    this.checkInFile(entry, at, n);
    return this.io.read(at, n);
  }

  /** Refuses a read of the block behind BAT entry `entry` that would run past the end of the file. */
  checkInFile(entry: number, at: number, n: number): void {
    if (at + n > this.fileSize) {
      throw new VhdxError(
        "BAT_ENTRY_BEYOND_EOF",
        `BAT entry ${entry} points past the end of the file (${hex(at + n)} > ${hex(this.fileSize)})`,
        "BAT",
        this.batRegion.fileOffset + entry * 8,
      );
    }
  }

  private async readParent(offset: number, n: number): Promise<Uint8Array> {
    if (!this.parent) {
      throw new VhdxError(
        "PARENT_NOT_FOUND",
        "this differencing image has no parent attached; open it with its parent chain",
        "parent locator",
      );
    }
    // A child larger than its parent (resized): the parent's bytes, then zeros past its end.
    const have = Math.max(0, Math.min(n, this.parent.virtualSize - offset));
    if (have === n) return this.parent.read(offset, n);
    const out = new Uint8Array(n);
    if (have > 0) out.set(await this.parent.read(offset, have));
    return out;
  }

  /** §2.4: each sector's bit says whether it comes from this file (1) or the parent (0). */
  private async readPartial(
    block: number,
    entry: number,
    fileOffset: number,
    inBlock: number,
    n: number,
  ): Promise<Uint8Array> {
    const ss = this.params.logicalSectorSize;
    const bitmap = await this.sectorBitmap(Math.floor(block / this.geometry.chunkRatio));
    const blockSectorBase = (block % this.geometry.chunkRatio) * (this.blockSize / ss);
    const out = new Uint8Array(n);
    let pos = inBlock;
    const end = inBlock + n;
    while (pos < end) {
      const sector = Math.floor(pos / ss);
      const bit = blockSectorBase + sector;
      const present = (bitmap[bit >>> 3] >>> (bit & 7)) & 1;
      // Extend the run while sectors share the same presence bit.
      let runEnd = (sector + 1) * ss;
      while (runEnd < end) {
        const b = blockSectorBase + runEnd / ss;
        if (((bitmap[b >>> 3] >>> (b & 7)) & 1) !== present) break;
        runEnd += ss;
      }
      runEnd = Math.min(runEnd, end);
      const bytes = present
        ? await this.readBlockBytes(entry, fileOffset + pos, runEnd - pos)
        : await this.readParent(block * this.blockSize + pos, runEnd - pos);
      out.set(bytes, pos - inBlock);
      pos = runEnd;
    }
    return out;
  }

  /** The 1 MiB sector bitmap block of `chunk`; all zeros (everything from the parent) when absent. */
  async sectorBitmap(chunk: number): Promise<Uint8Array> {
    const cached = this.bitmapCache.get(chunk);
    if (cached) return cached;
    const entry = sectorBitmapEntryIndex(this.geometry, chunk);
    let bytes: Uint8Array;
    if (this.bat.state(entry) === SB_BLOCK_PRESENT) {
      bytes = await this.readBlockBytes(entry, this.bat.fileOffsetMB(entry) * MiB, MiB);
    } else {
      bytes = new Uint8Array(MiB);
    }
    if (this.bitmapCache.size >= SECTOR_BITMAP_CACHE) this.bitmapCache.delete(this.bitmapCache.keys().next().value!);
    this.bitmapCache.set(chunk, bytes);
    return bytes;
  }

  /** Forgets cached sector bitmaps (after a write changed them). */
  invalidateCaches(): void {
    this.bitmapCache.clear();
  }

  /** The plain-JSON summary behind `vhdx info --json` and the editor's views. */
  info(): ImageInfo {
    return imageInfo(this, { needsReplay: this.logNeedsReplay });
  }

  /** The file's layout: every structure and allocated block, free gaps, overlaps. */
  map(window?: MapWindow): FileMap {
    return fileMap(this, window);
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

export function checkRange(offset: number, length: number, limit: number, space: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new VhdxError(
      "OUT_OF_RANGE",
      `offset ${offset} and length ${length} must be whole numbers from 0 to 2^53`,
      space,
    );
  }
  if (offset + length > limit) {
    throw new VhdxError(
      "OUT_OF_RANGE",
      `range ${offset}+${length} runs past the end of the ${space} (${limit} bytes)`,
      space,
      offset,
    );
  }
}

export interface OpenOptions {
  /** Default true: nothing is ever written to the file. */
  readOnly?: boolean;
  /**
   * When the log needs replay: "overlay" replays into memory and writes nothing (the default when
   * read-only), "in-place" replays into the file (the default when writable), "refuse" throws.
   */
  replay?: "overlay" | "in-place" | "refuse";
}

/**
 * Opens a VHDX file: header section (§2.2), log state (§2.3), regions with the overlap registry,
 * metadata (§2.6) and BAT (§2.5). Reads only the structures, never the payload.
 */
export async function openImage(file: RandomAccess, opts: OpenOptions = {}): Promise<VhdxImage> {
  const readOnly = opts.readOnly ?? true;
  if (!readOnly && file.readOnly)
    throw new VhdxError("READ_ONLY", "the file was opened read-only and cannot be written", "file");
  const warnings: Warning[] = [];
  let section = await readHeaderSection(file, await file.size(), warnings);
  let io: RandomAccess = file;
  let logScan: LogScan | null = null;
  let logNeedsReplay = false;
  const header = section.headerSlots[section.currentHeaderIndex].header!;
  // §2.3.3: a non-empty log MUST be replayed before any other I/O beyond the header and the log.
  if (!isZeroGuid(header.logGuid)) {
    const mode = readOnly && opts.replay !== "refuse" ? "overlay" : (opts.replay ?? "in-place");
    const updater = mode === "in-place" ? new HeaderUpdater(file, header, section.currentHeaderIndex) : undefined;
    const recovery = await recoverLog(file, header, mode, updater);
    if (recovery.warning)
      warnings.push({
        code: "LOG_NO_VALID_SEQUENCE",
        message: recovery.warning,
        structure: "log",
        offset: header.logOffset,
      });
    if (mode === "in-place") {
      // The headers changed (fresh FileWriteGuid, LogGuid zero): read them again.
      warnings.length = 0;
      section = await readHeaderSection(file, await file.size(), warnings);
    } else {
      io = recovery.io;
      logScan = recovery.scan;
      logNeedsReplay = recovery.replayed === "overlay";
    }
  }
  const fileSize = await io.size();
  // Bytes a replay only grew the file by read as zeros; reads of the BAT stop where real data ends.
  // (A reduce, not a spread: a long log can leave more changed ranges than a call takes arguments.)
  const dataEnd =
    io instanceof OverlayBackend
      ? Math.min(
          fileSize,
          io.changedRanges().reduce((m, r) => Math.max(m, r.start + r.length), await file.size()),
        )
      : fileSize;
  const registry = registerStructures(section);
  const { table, params } = await readMetadata(io, section.metadataRegion, warnings);
  const bat = await readBat(io, fileSize, section.batRegion, params, registry, warnings, dataEnd);
  const blockOverlaps = registry.overlaps();
  if (blockOverlaps.length > 0) {
    const [a, b] = blockOverlaps[0];
    const e = new VhdxError(
      "REGION_OVERLAP",
      `${a.name} [${hex(a.start)}, ${hex(a.start + a.length)}) overlaps ${b.name} [${hex(b.start)}, ${hex(b.start + b.length)})`,
      b.name,
      b.start,
    );
    // Reading stays possible for inspection; writing into an image whose blocks collide would spread the damage.
    if (!readOnly) throw e;
    warnings.push({
      code: e.code,
      message: e.message + (blockOverlaps.length > 1 ? ` (and ${blockOverlaps.length - 1} more)` : ""),
      structure: e.structure,
      offset: e.offset,
    });
  }
  const image = new VhdxImage({ file, io, fileSize, section, metadataTable: table, params, bat, registry, warnings });
  image.logNeedsReplay = logNeedsReplay;
  image.logScan = logScan;
  return image;
}
