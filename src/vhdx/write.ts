import {
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_NOT_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  SB_BLOCK_PRESENT,
  SECTOR_BITMAP_BLOCK_SIZE,
  sectorBitmapEntryIndex,
} from "./bat";
import { Allocation, Allocator } from "./allocator";
import { BatUpdate } from "./batUpdate";
import { MiB } from "./bytes";
import { VhdxError } from "./errors";
import type { Guid } from "./guid";
import { HEADER_OFFSETS } from "./header";
import { checkRange, VhdxImage } from "./image";
import { failedBeforeLogEntry, HeaderUpdater, LogWriter, LogWriterOptions, MetadataUpdate } from "./log";
import { ReadGate, Mutex } from "./mutex";

export interface WriterOptions {
  /** Crash-test hook: runs after a log entry is flushed and before it is applied. */
  afterLogFlush?: LogWriterOptions["afterLogFlush"];
  /**
   * When a block finds no free gap, take a retained block's space (§2.5.1.1: an UNMAPPED or
   * UNDEFINED entry's old contents) before growing the file. Default: for fixed images only.
   */
  reclaimRetained?: boolean;
}

/** An edit inside one payload block: `data` lands at byte `inBlock` of block `block`. */
export interface BlockEdit {
  inBlock: number;
  data: Uint8Array;
}

const PIECE = 4 * MiB;
const ZERO_PIECE = new Uint8Array(PIECE);
/** Allocating blocks committed per log entry during large writes. */
const BLOCKS_PER_COMMIT = 64;

/**
 * Writes to an open, writable image (§2.3–§2.5). One writer per open image; its methods are
 * serialised by a mutex, and reads through `read()` never see half a commit.
 *
 * Session rules (§2.2.2): the first header update renews FileWriteGuid; DataWriteGuid is renewed
 * before the first change a reader of the virtual disk could see. Block allocation: data first,
 * flushed, then the BAT entry (and sector bitmap) through one log entry.
 */
export class VhdxWriter {
  readonly image: VhdxImage;
  readonly updater: HeaderUpdater;
  readonly log: LogWriter;
  readonly allocator: Allocator;
  readonly mutex = new Mutex();
  readonly gate = new ReadGate();
  private dirty = false;
  private logUsed = false;
  /** Told what the writer did on its own to let a commit through (the log grown, see ensureLogRoom). */
  notice: ((message: string) => void) | null = null;

  constructor(image: VhdxImage, opts: WriterOptions = {}) {
    if (image.file.readOnly || image.io !== image.file) {
      throw new VhdxError("READ_ONLY", "the image was opened read-only; open it with readOnly: false to write", "file");
    }
    if (image.logNeedsReplay)
      throw new VhdxError("LOG_NEEDS_REPLAY", "the log must be replayed before writing", "log", image.header.logOffset);
    this.image = image;
    this.updater = new HeaderUpdater(image.file, image.header, image.currentHeaderIndex);
    this.log = new LogWriter(this.updater, { afterLogFlush: opts.afterLogFlush });
    this.allocator = new Allocator(
      () => image.registry,
      () => image.fileSize,
      () => opts.reclaimRetained ?? image.diskType === "fixed",
    );
  }

  /** Virtual disk bytes, never mid-commit. */
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.gate.read(() => this.image.read(offset, length));
  }

  /**
   * Writes `data` at virtual `offset` (any alignment). Blocks that need space are allocated and
   * committed atomically; bytes in blocks already present are written in place, with the storage's
   * own per-sector atomicity. For all-or-nothing changes use a patch (commitPatch).
   */
  write(offset: number, data: Uint8Array): Promise<void> {
    checkRange(offset, data.length, this.image.virtualSize, "virtual disk");
    return this.mutex.run(async () => {
      if (data.length === 0) return;
      await this.beginDataWrite();
      const bs = this.image.blockSize;
      const groups: [number, BlockEdit[]][] = [];
      for (let pos = offset; pos < offset + data.length;) {
        const block = Math.floor(pos / bs);
        const n = Math.min((block + 1) * bs, offset + data.length) - pos;
        groups.push([block, [{ inBlock: pos - block * bs, data: data.subarray(pos - offset, pos - offset + n) }]]);
        pos += n;
      }
      for (let i = 0; i < groups.length; i += BLOCKS_PER_COMMIT) {
        await this.writeBlocks(groups.slice(i, i + BLOCKS_PER_COMMIT), false);
      }
    });
  }

  /** Makes every write so far durable. */
  flush(): Promise<void> {
    return this.mutex.run(() => this.log.flushData());
  }

  /** Ends the session: every log entry is applied, so the log is marked empty (LogGuid zero), then flushed. */
  finish(): Promise<void> {
    return this.mutex.run(async () => {
      await this.log.markLogEmpty();
      this.logUsed = false;
      await this.log.flushData();
      this.syncHeader();
    });
  }

  async close(): Promise<void> {
    await this.finish();
    await this.image.close();
  }

  /** True once this session renewed the write GUIDs. */
  get sessionStarted(): boolean {
    return this.dirty;
  }

  /** True while the log holds this session's entries (LogGuid set). */
  get logStarted(): boolean {
    return this.logUsed;
  }

  /** §2.2.2 DataWriteGuid: renewed (with FileWriteGuid, on the session's first update) before the first visible change. */
  async beginDataWrite(dataWriteGuid?: Guid): Promise<void> {
    if (this.dirty) return;
    await this.updater.beginDataWrite(dataWriteGuid);
    this.dirty = true;
    this.syncHeader();
  }

  /**
   * §2.2.2.1: the session's first header update (a fresh FileWriteGuid) comes before any other
   * part of the file is written, even space no reader sees yet (copy-on-write staging).
   */
  async beginFileWrite(): Promise<void> {
    await this.updater.beginFileWrite();
    this.syncHeader();
  }

  /**
   * Writes edits grouped by block. With `copyOnWrite`, present blocks are copied to new space with
   * the edits applied (the atomic patch path); otherwise present blocks are written in place.
   * Blocks that need new space get it; all BAT and sector bitmap changes commit in ONE log entry.
   */
  async writeBlocks(groups: readonly [number, BlockEdit[]][], copyOnWrite: boolean): Promise<void> {
    await this.staging(async (staged, commit) => {
      for (const [block, edits] of groups) await this.stageBlock(staged, block, edits, copyOnWrite);
      await commit();
    });
  }

  /**
   * Writes one block's edits as part of `staged`: in place for a present block without
   * `copyOnWrite`, else into new space. Nothing a reader sees changes until commitStaged().
   */
  async stageBlock(
    staged: StagedBlocks,
    block: number,
    edits: readonly BlockEdit[],
    copyOnWrite: boolean,
  ): Promise<void> {
    const img = this.image;
    const update = staged.update;
    const allocated = staged.allocated;
    const { entry, state, fileOffset } = img.blockLocation(block);
    const differencing = img.diskType === "differencing";
    if (state === PAYLOAD_BLOCK_FULLY_PRESENT && !copyOnWrite) {
      for (const e of edits) await img.file.write(fileOffset + e.inBlock, e.data);
      return;
    }
    if (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT && differencing && !copyOnWrite) {
      const sectors = await this.sectorAligned(block, edits);
      for (const s of sectors) await img.file.write(fileOffset + s.inBlock, s.data);
      await this.markSectors(update, block, sectors, allocated);
      staged.needFlush = true;
      return;
    }
    // New space: a fresh block, or the copy of a present block.
    const space = await this.claim(img.blockSize, entry);
    allocated.push({ start: space.start, length: img.blockSize });
    staged.lastFileOffset = Math.max(staged.lastFileOffset, space.start + img.blockSize);
    staged.needFlush = true;
    if (state === PAYLOAD_BLOCK_FULLY_PRESENT || (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT && differencing)) {
      const sectors = state === PAYLOAD_BLOCK_PARTIALLY_PRESENT ? await this.sectorAligned(block, edits) : edits;
      await this.copyBlock(fileOffset, space.start, sectors, space.grows);
      update.setEntry(entry, state, space.start);
      if (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT) await this.markSectors(update, block, sectors, allocated);
    } else if (state === PAYLOAD_BLOCK_NOT_PRESENT && differencing) {
      // §2.4: unwritten sectors stay with the parent; only written sectors get their bit.
      const sectors = await this.sectorAligned(block, edits);
      await this.fillBlock(space.start, sectors, space.grows);
      update.setEntry(entry, PAYLOAD_BLOCK_PARTIALLY_PRESENT, space.start);
      await this.markSectors(update, block, sectors, allocated);
    } else {
      // NOT_PRESENT, ZERO, UNMAPPED, UNDEFINED (or unknown): zeros apart from the written bytes.
      await this.fillBlock(space.start, edits, space.grows);
      update.setEntry(entry, PAYLOAD_BLOCK_FULLY_PRESENT, space.start);
    }
  }

  /**
   * Makes the staged blocks visible: their data flushed, then ONE log entry with every BAT and
   * sector bitmap change (and `extra` metadata sectors, e.g. the metadata region of a merge).
   */
  async commitStaged(
    staged: StagedBlocks,
    extra: readonly MetadataUpdate[] = [],
    after?: () => Promise<void>,
  ): Promise<void> {
    const img = this.image;
    if (staged.update.empty && extra.length === 0) return;
    // Payload (and the file's growth) durable before any metadata points at it; the log writer
    // counts this flush, so the commit costs only its entry and apply flushes on top.
    if (staged.needFlush) await this.log.flushData();
    img.fileSize = await img.file.size();
    await this.commit(staged.update, staged.lastFileOffset, extra, after);
    for (const a of staged.allocated) this.allocator.settle(a.start);
  }

  /**
   * Runs `fn` with a fresh StagedBlocks and a `commit` that commits them (commitStaged). If `fn`
   * fails before its commit's log entry is whole in the file (before `commit`, or inside it: a full
   * disk refusing the entry), the staged space goes back to the allocator and blocks staged past
   * the file's old end are cut off, as nothing references them; once the entry is written the file
   * is left as it is (a replay may point at them).
   */
  async staging<T>(
    fn: (
      staged: StagedBlocks,
      commit: (extra?: readonly MetadataUpdate[], after?: () => Promise<void>) => Promise<void>,
    ) => Promise<T>,
  ): Promise<T> {
    const file = this.image.file;
    const staged = new StagedBlocks(this.image);
    const startSize = await file.size();
    let committing = false;
    try {
      return await fn(staged, (extra, after) => {
        committing = true;
        return this.commitStaged(staged, extra, after);
      });
    } catch (e) {
      this.abandonStaged(staged);
      if (!committing || failedBeforeLogEntry(e)) {
        // A log grown meanwhile (growLogWhileStaging) stays: the header names it.
        const h = this.image.header;
        const keep = Math.max(startSize, h.logOffset + h.logLength);
        if ((await file.size()) > keep) {
          await file.truncate(keep);
          this.image.fileSize = keep;
          // The space given back past the new end is no gap of the file any more.
          this.allocator.reset();
        }
      }
      throw e;
    }
  }

  /** Space of a commit that did not happen goes back; the file still describes the old state. */
  abandonStaged(staged: StagedBlocks): void {
    for (const a of staged.allocated) this.allocator.release(a.start, a.length);
    staged.allocated.length = 0;
  }

  /** One log entry, with no read in flight; afterwards the in-memory BAT follows and freed space is reusable. */
  async commit(
    update: BatUpdate,
    lastFileOffset = 0,
    extra: readonly MetadataUpdate[] = [],
    after?: () => Promise<void>,
  ): Promise<void> {
    await this.commitSectors(
      [...(await update.sectors()), ...extra],
      async () => {
        const { freed } = update.applyToImage();
        this.image.fileSize = await this.image.file.size();
        for (const f of freed) this.allocator.release(f.start, f.length);
        await after?.();
      },
      lastFileOffset,
    );
  }

  /** Commits 4 KiB metadata sectors as ONE log entry, then runs `after` before any read resumes. */
  async commitSectors(sectors: MetadataUpdate[], after: () => Promise<void>, lastFileOffset = 0): Promise<void> {
    await this.gate.exclusive(async () => {
      await this.log.commit(sectors, { lastFileOffset });
      this.logUsed = true;
      await after();
    });
    this.syncHeader();
  }

  /**
   * Widens edits to whole logical sectors: the bytes of a partly written sector that the edit
   * does not cover come from the current virtual disk (this file or the parent).
   */
  async sectorAligned(block: number, edits: readonly BlockEdit[]): Promise<BlockEdit[]> {
    const ss = this.image.params.logicalSectorSize;
    const base = block * this.image.blockSize;
    const out: BlockEdit[] = [];
    for (const e of edits) {
      const start = Math.floor(e.inBlock / ss) * ss;
      const end = Math.ceil((e.inBlock + e.data.length) / ss) * ss;
      if (start === e.inBlock && end === e.inBlock + e.data.length) {
        out.push(e);
        continue;
      }
      const buf = await this.image.read(base + start, end - start);
      buf.set(e.data, e.inBlock - start);
      out.push({ inBlock: start, data: buf });
    }
    return out;
  }

  /**
   * Space for a new block (for BAT entry `forEntry`). A retained block taken over is let go first
   * (letGoRetained), before a byte of the new block is written there.
   */
  private async claim(length: number, forEntry?: number): Promise<Allocation> {
    const space = this.allocator.allocate(length, forEntry);
    if (space.reclaimed !== undefined) await this.letGoRetained(space.reclaimed, space.start);
    return space;
  }

  /**
   * §2.5.1.1: a non-zero FileOffsetMB of an UNMAPPED or UNDEFINED entry MUST point at the block's
   * contents from before the transition (or zeros in their place). So the entry's FileOffsetMB is
   * cleared by a log entry of its own, committed before its space is written with another block's
   * data: a power cut at any later write leaves the entry with offset 0 (reads as zeros either way),
   * never pointing at new bytes. The space stays this commit's allocation (its gap if it fails).
   */
  private async letGoRetained(entry: number, start: number): Promise<void> {
    const img = this.image;
    const clear = new BatUpdate(img);
    clear.setEntry(entry, img.bat.state(entry), 0);
    await this.commitSectors(await clear.sectors(), async () => {
      clear.applyToImage();
    });
    this.allocator.adopt(start);
  }

  /** Sets the sector bitmap bits of the sectors covered by `edits`, allocating the bitmap block if needed. */
  private async markSectors(
    update: BatUpdate,
    block: number,
    edits: readonly BlockEdit[],
    allocated: { start: number; length: number }[],
  ): Promise<void> {
    const img = this.image;
    const g = img.geometry;
    const ss = img.params.logicalSectorSize;
    const chunk = Math.floor(block / g.chunkRatio);
    const sbEntry = sectorBitmapEntryIndex(g, chunk);
    let sb = update.entry(sbEntry);
    if (sb.state !== SB_BLOCK_PRESENT) {
      const space = await this.claim(SECTOR_BITMAP_BLOCK_SIZE);
      allocated.push({ start: space.start, length: SECTOR_BITMAP_BLOCK_SIZE });
      await this.fillBlock(space.start, [], space.grows, SECTOR_BITMAP_BLOCK_SIZE);
      update.newBitmapBlock(sbEntry, space.start);
      sb = update.entry(sbEntry);
    }
    const firstBitOfBlock = (block % g.chunkRatio) * (img.blockSize / ss);
    for (const e of edits) update.setBits(sb.fileOffset, firstBitOfBlock + e.inBlock / ss, e.data.length / ss);
  }

  /** Writes a new block: the edits, zeros elsewhere (nothing to write where the file just grew). */
  private async fillBlock(
    start: number,
    edits: readonly BlockEdit[],
    grows: boolean,
    length = this.image.blockSize,
  ): Promise<void> {
    const file = this.image.file;
    if (grows) {
      // Fresh space past the end of the file reads as zeros: only the edits need writing.
      if ((await file.size()) < start + length) await file.truncate(start + length);
      for (const e of edits) await file.write(start + e.inBlock, e.data);
      return;
    }
    for (let at = 0; at < length; at += PIECE) {
      const n = Math.min(PIECE, length - at);
      const touching = edits.filter((e) => e.inBlock < at + n && e.inBlock + e.data.length > at);
      if (touching.length === 0) {
        await file.write(start + at, ZERO_PIECE.subarray(0, n));
        continue;
      }
      const whole = touching.find((e) => e.inBlock <= at && e.inBlock + e.data.length >= at + n);
      if (whole && touching.length === 1) {
        await file.write(start + at, whole.data.subarray(at - whole.inBlock, at - whole.inBlock + n));
        continue;
      }
      const buf = new Uint8Array(n);
      applyEdits(buf, at, touching);
      await file.write(start + at, buf);
    }
  }

  /** Copies a present block to new space with the edits applied, piece by piece. */
  private async copyBlock(from: number, to: number, edits: readonly BlockEdit[], grows: boolean): Promise<void> {
    const file = this.image.file;
    const bs = this.image.blockSize;
    if (grows && (await file.size()) < to + bs) await file.truncate(to + bs);
    for (let at = 0; at < bs; at += PIECE) {
      const n = Math.min(PIECE, bs - at);
      const buf = await file.read(from + at, n);
      applyEdits(buf, at, edits);
      await file.write(to + at, buf);
    }
  }

  /** Mirrors the header updater's current header into the image's header view. */
  syncHeader(): void {
    const img = this.image;
    const idx = this.updater.currentIndex;
    const h = this.updater.current;
    img.currentHeaderIndex = idx;
    img.headerSlots[idx] = {
      index: idx,
      fileOffset: HEADER_OFFSETS[idx],
      header: h,
      computedChecksum: h.checksum,
      valid: true,
      problems: [],
    };
  }
}

/** The blocks of one commit in progress: new space written, BAT and bitmap changes not yet logged. */
export class StagedBlocks {
  readonly update: BatUpdate;
  readonly allocated: { start: number; length: number }[] = [];
  lastFileOffset = 0;
  needFlush = false;

  constructor(img: VhdxImage) {
    this.update = new BatUpdate(img);
  }
}

/** Copies the parts of `edits` that fall in [at, at + buf.length) of the block into `buf`. */
export function applyEdits(buf: Uint8Array, at: number, edits: readonly BlockEdit[]): void {
  for (const e of edits) {
    const s = Math.max(at, e.inBlock);
    const t = Math.min(at + buf.length, e.inBlock + e.data.length);
    if (s < t) buf.set(e.data.subarray(s - e.inBlock, t - e.inBlock), s - at);
  }
}
