import { alignUp, isAllZero, MiB } from "../bytes";
import { hex, VhdxError } from "../errors";
import { Guid, ZERO_GUID } from "../guid";
import { RandomAccess } from "../io";
import {
  DESCRIPTORS_IN_FIRST_SECTOR,
  descriptorSectorCount,
  LOG_SECTOR_SIZE,
  LogUpdate,
  serializeLogEntry,
} from "./entry";
import { HeaderUpdater } from "./headerUpdate";
import { writeZeros } from "./zeros";
import { LOG_FORBIDDEN_PREFIX } from "./validate";

/** A metadata update: 4 KiB-aligned file bytes (a whole number of 4 KiB sectors). */
export interface MetadataUpdate {
  fileOffset: number;
  data: Uint8Array;
}

/** What one commit wrote. */
export interface CommitInfo {
  sequenceNumber: bigint;
  /** Ring position of the entry, and its file offset. */
  position: number;
  entryFileOffset: number;
  entryLength: number;
  dataDescriptors: number;
  zeroDescriptors: number;
  /** Descriptor sectors used: 1 while the commit has at most 126 descriptors. */
  descriptorSectors: number;
  flushedFileOffset: number;
  lastFileOffset: number;
}

export interface LogWriterOptions {
  /**
   * Called right after the entry is written and flushed and before it is applied. A hook for
   * crash tests: throwing here leaves the file exactly as a crash at that point would.
   */
  afterLogFlush?: (info: CommitInfo) => void | Promise<void>;
}

export interface CommitOptions {
  /** A file size every allocated structure fits into (e.g. the end of a block allocated with this commit). */
  lastFileOffset?: number;
}

/**
 * Commits metadata updates through the log (§2.3): each commit becomes ONE log entry, written and
 * flushed, then applied in place and flushed. A crash replays the whole commit or none of it.
 *
 * Ring use: entries follow one another around the ring, wrapping at its end (an entry may straddle
 * the end). Because every commit is applied and flushed before commit() returns, each entry is a
 * sequence of its own (its Tail points at itself) and the space behind it is free for reuse.
 */
export class LogWriter {
  readonly updater: HeaderUpdater;
  private readonly opts: LogWriterOptions;
  private logGuid: Guid = ZERO_GUID;
  private sequenceNumber = 0n;
  private head = 0;
  private stableSize = -1;
  /** Commits run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Set when an entry reached the log but was not applied: later entries must not make it unreachable. */
  private unapplied: { sequenceNumber: bigint; cause: unknown } | null = null;

  constructor(updater: HeaderUpdater, opts: LogWriterOptions = {}) {
    this.updater = updater;
    this.opts = opts;
  }

  private get io(): RandomAccess {
    return this.updater.io;
  }

  /**
   * Logs and applies one metadata update. If anything fails after the entry reached the log, the
   * writer refuses further commits: a later entry whose Tail points at itself would hide the
   * unapplied one from a replay. Reopening the image replays the log and recovers.
   */
  commit(updates: readonly MetadataUpdate[], opts: CommitOptions = {}): Promise<CommitInfo> {
    const next = this.queue.then(() => this.commitNow(updates, opts));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async commitNow(updates: readonly MetadataUpdate[], opts: CommitOptions): Promise<CommitInfo> {
    const progress = { whole: false };
    let info: { info: CommitInfo; list: LogUpdate[]; lastFileOffset: number };
    try {
      info = await this.writeEntry(updates, opts, progress);
    } catch (e) {
      if (!progress.whole && typeof e === "object" && e !== null) NOT_LOGGED.add(e);
      throw e;
    }
    const { list, lastFileOffset } = info;
    try {
      await this.opts.afterLogFlush?.(info.info);
      // §2.3 steps 3–4: apply in place, flush; the entry's space may then be reused.
      await applyUpdates(this.io, list);
      if ((await this.io.size()) < lastFileOffset) await this.io.truncate(lastFileOffset);
      await this.io.flush();
    } catch (e) {
      this.unapplied = { sequenceNumber: info.info.sequenceNumber, cause: e };
      throw e;
    }
    this.stableSize = await this.io.size();
    return info.info;
  }

  /**
   * §2.3 steps 1–2: the entry written whole and flushed. A failure before the entry's last byte is
   * written leaves no valid entry behind (its checksum covers all of it), so nothing can replay it.
   */
  private async writeEntry(
    updates: readonly MetadataUpdate[],
    opts: CommitOptions,
    progress: { whole: boolean },
  ): Promise<{ info: CommitInfo; list: LogUpdate[]; lastFileOffset: number }> {
    if (this.unapplied) {
      throw new VhdxError(
        "LOG_NEEDS_REPLAY",
        `log entry ${this.unapplied.sequenceNumber} was written but not applied (${describe(this.unapplied.cause)}); reopen the image to replay the log`,
        "log",
        this.updater.current.logOffset,
      );
    }
    const { logOffset, logLength } = this.updater.current;
    const list = toLogUpdates(updates, logOffset, logLength);
    const descSectors = descriptorSectorCount(list.length);
    const dataCount = list.filter((u) => u.kind === "data").length;
    const entryLength = (descSectors + dataCount) * LOG_SECTOR_SIZE;
    if (entryLength > logLength) {
      throw new VhdxError(
        "LOG_FULL",
        `this change needs a ${hex(entryLength)}-byte log entry (${dataCount} data sectors, ${list.length} descriptors) but the log holds only ${hex(logLength)} bytes`,
        "log",
        logOffset,
      );
    }
    // §2.2.2 LogGuid: a fresh non-zero LogGuid before the log region is first overwritten; entries
    // from earlier sessions are then invalid, so this writer starts its own numbering at the ring start.
    if (this.sequenceNumber === 0n) {
      // The header update flushes, so the size before it is durable afterwards.
      const before = await this.io.size();
      this.logGuid = (await this.updater.update({}, { newLogGuid: true })).logGuid;
      this.stableSize = before;
      this.head = 0;
    }
    // §2.3.1.1 FlushedFileOffset: a size already stable on disk. A flush since the last size change
    // (the caller's data flush, see flushData, or the header update above) already made it so;
    // only a size nobody flushed costs one more flush here.
    const size = await this.io.size();
    if (size !== this.stableSize) {
      await this.io.flush();
      this.stableSize = size;
    }
    const flushedFileOffset = Math.floor(size / MiB) * MiB;
    // §2.3.1.1 LastFileOffset: the smallest 1 MiB multiple every structure fits into.
    const updatesEnd = list.reduce(
      (m, u) => Math.max(m, u.fileOffset + (u.kind === "data" ? LOG_SECTOR_SIZE : u.length)),
      0,
    );
    const lastFileOffset = alignUp(Math.max(size, updatesEnd, opts.lastFileOffset ?? 0), MiB);

    const sequenceNumber = this.sequenceNumber + 1n;
    const position = this.head;
    const entry = serializeLogEntry({
      tail: position,
      sequenceNumber,
      logGuid: this.logGuid,
      flushedFileOffset,
      lastFileOffset,
      updates: list,
    });
    // §2.3 steps 1–2: write the entry (in two pieces when it wraps) and flush it.
    const first = Math.min(entryLength, logLength - position);
    await this.io.write(logOffset + position, entry.subarray(0, first));
    if (first < entryLength) await this.io.write(logOffset, entry.subarray(first));
    // Whole in the file's cache from here: a failed flush may still let it reach the disk.
    progress.whole = true;
    await this.io.flush();
    this.sequenceNumber = sequenceNumber;
    this.head = (position + entryLength) % logLength;
    const info: CommitInfo = {
      sequenceNumber,
      position,
      entryFileOffset: logOffset + position,
      entryLength,
      dataDescriptors: dataCount,
      zeroDescriptors: list.length - dataCount,
      descriptorSectors: descSectors,
      flushedFileOffset,
      lastFileOffset,
    };
    return { info, list, lastFileOffset };
  }

  /**
   * Flushes the file and remembers its size as durable. A caller that writes payload before a
   * commit (an allocation's new block, which may grow the file) flushes through here: that one
   * flush makes both the data and the new size stable, so the commit's FlushedFileOffset
   * (§2.3.1.1) needs no flush of its own — data, flush, entry, flush, apply, flush.
   */
  async flushData(): Promise<void> {
    // The size read before the flush is durable once it returns (the file only grows while open).
    const size = await this.io.size();
    await this.io.flush();
    this.stableSize = size;
  }

  /** After the last commit of a session: every entry is applied, so the log is marked empty (LogGuid zero). */
  async markLogEmpty(): Promise<void> {
    await this.queue;
    // An entry that was never applied must stay replayable.
    if (this.unapplied) return;
    if (this.sequenceNumber > 0n) await this.updater.update({ logGuid: ZERO_GUID });
    this.sequenceNumber = 0n;
  }
}

/**
 * Sorts the sectors, keeps the last bytes given for a sector, turns runs of all-zero sectors into
 * zero descriptors and the rest into data descriptors. Entries longer than 126 descriptors continue
 * into further descriptor sectors (§2.3.1); only very large commits need that.
 */
export function toLogUpdates(updates: readonly MetadataUpdate[], logOffset: number, logLength: number): LogUpdate[] {
  const sectors = new Map<number, Uint8Array>();
  for (const u of updates) {
    if (
      !Number.isSafeInteger(u.fileOffset) ||
      u.fileOffset % LOG_SECTOR_SIZE !== 0 ||
      u.data.length === 0 ||
      u.data.length % LOG_SECTOR_SIZE !== 0
    ) {
      throw new VhdxError(
        "INVALID_ARGUMENT",
        `a metadata update must cover whole 4 KiB sectors (offset ${hex(u.fileOffset)}, ${u.data.length} bytes)`,
        "log",
        u.fileOffset,
      );
    }
    const end = u.fileOffset + u.data.length;
    if (u.fileOffset < LOG_FORBIDDEN_PREFIX || (u.fileOffset < logOffset + logLength && end > logOffset)) {
      throw new VhdxError(
        "INVALID_ARGUMENT",
        `file range ${hex(u.fileOffset)}–${hex(end)} cannot be updated through the log`,
        "log",
        u.fileOffset,
      );
    }
    for (let at = 0; at < u.data.length; at += LOG_SECTOR_SIZE)
      sectors.set(u.fileOffset + at, u.data.subarray(at, at + LOG_SECTOR_SIZE));
  }
  const out: LogUpdate[] = [];
  for (const off of [...sectors.keys()].sort((a, b) => a - b)) {
    const data = sectors.get(off)!;
    const last = out[out.length - 1];
    if (isAllZero(data)) {
      if (last && last.kind === "zero" && last.fileOffset + last.length === off) last.length += LOG_SECTOR_SIZE;
      else out.push({ kind: "zero", fileOffset: off, length: LOG_SECTOR_SIZE });
    } else {
      out.push({ kind: "data", fileOffset: off, data: data.slice() });
    }
  }
  return out;
}

/** True when a commit of these updates fits one descriptor sector (what QEMU 7.2 can read back). */
export function fitsOneDescriptorSector(list: readonly LogUpdate[]): boolean {
  return list.length <= DESCRIPTORS_IN_FIRST_SECTOR;
}

async function applyUpdates(io: RandomAccess, list: readonly LogUpdate[]): Promise<void> {
  // Contiguous data sectors go out as one write.
  for (let i = 0; i < list.length;) {
    const u = list[i];
    if (u.kind === "zero") {
      await writeZeros(io, u.fileOffset, u.length);
      i++;
      continue;
    }
    let j = i + 1;
    while (
      j < list.length &&
      list[j].kind === "data" &&
      list[j].fileOffset === u.fileOffset + (j - i) * LOG_SECTOR_SIZE
    )
      j++;
    const buf = new Uint8Array((j - i) * LOG_SECTOR_SIZE);
    for (let k = i; k < j; k++) buf.set((list[k] as { data: Uint8Array }).data, (k - i) * LOG_SECTOR_SIZE);
    await io.write(u.fileOffset, buf);
    i = j;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Errors of commits that failed before their log entry was whole in the file. */
const NOT_LOGGED = new WeakSet<object>();

/**
 * True when `e` ended a commit before its log entry was whole in the file: no replay can apply
 * it, so whatever the caller staged for it (new blocks) is referenced by nothing and may go back.
 */
export function failedBeforeLogEntry(e: unknown): boolean {
  return typeof e === "object" && e !== null && NOT_LOGGED.has(e);
}
