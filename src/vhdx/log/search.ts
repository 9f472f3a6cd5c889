import { hex, VhdxError } from "../errors";
import { Header } from "../header";
import { isZeroGuid } from "../guid";
import { RandomAccess } from "../io";
import { LOG_SECTOR_SIZE, parseDataSector, restoreSector } from "./entry";
import { LogRing } from "./ring";
import { DescriptorReport, EntryReport, hasEntrySignature, validateEntry, ValidationContext } from "./validate";

/** The active sequence (§2.3.3): what a replay writes, tail entry first. */
export interface ActiveSequence {
  /** Entries in replay order, from the head's tail to the head. */
  entries: EntryReport[];
  headSequenceNumber: bigint;
  /** Ring position of the tail entry. */
  tail: number;
  /** Ring position of the head entry. */
  head: number;
  flushedFileOffset: number;
  lastFileOffset: number;
  /** The 4 KiB update of each data descriptor of the active entries, keyed "entryIndex:descriptorIndex". */
  data: Map<string, Uint8Array>;
}

export interface LogScan {
  logOffset: number;
  logLength: number;
  /** Every entry whose sector opens with "loge", at any 4 KiB position of the ring, in position order. */
  entries: EntryReport[];
  active: ActiveSequence | null;
  /** LogGuid is non-zero and an active sequence exists: the log MUST be replayed before other I/O. */
  needsReplay: boolean;
  /** Set when LogGuid is non-zero yet no valid sequence exists; the log is then treated as empty. */
  warning: string | null;
}

/**
 * Reads the log region once and finds every entry and the active sequence.
 * Hostile sizes are clamped against the file size before any allocation.
 */
export async function scanLog(io: RandomAccess, header: Header): Promise<LogScan> {
  const { logOffset, logLength, logGuid } = header;
  const empty: LogScan = { logOffset, logLength, entries: [], active: null, needsReplay: false, warning: null };
  // §2.2.2 LogVersion: with a log to replay, only version 0 may be processed.
  if (header.logVersion !== 0 && !isZeroGuid(logGuid)) {
    throw new VhdxError(
      "LOG_INVALID",
      `LogVersion is ${header.logVersion} and LogGuid is set: this log format is unknown and cannot be replayed`,
      "header",
    );
  }
  if (logLength === 0 || logLength % LOG_SECTOR_SIZE !== 0) {
    if (!isZeroGuid(logGuid))
      empty.warning = `LogGuid is set but the log length ${hex(logLength)} holds no entries; the log is treated as empty`;
    return empty;
  }
  const fileSize = await io.size();
  const readable = Math.max(0, Math.min(logLength, fileSize - logOffset));
  const ring = new LogRing(readable > 0 ? await io.read(logOffset, readable) : new Uint8Array(0), logLength);
  const ctx: ValidationContext = { logGuid, logOffset };

  const reports = new Map<number, EntryReport>();
  const entryAt = (pos: number): EntryReport | null => {
    if (!hasEntrySignature(ring, pos)) return null;
    let r = reports.get(pos);
    if (!r) {
      r = validateEntry(ring, pos, ctx);
      reports.set(pos, r);
    }
    return r;
  };
  for (let pos = 0; pos < logLength; pos += LOG_SECTOR_SIZE) entryAt(pos);
  const entries = [...reports.values()].sort((a, b) => a.position - b.position);

  // §2.2.2 LogGuid: zero means the log is empty and MUST NOT be replayed.
  if (isZeroGuid(logGuid)) return { ...empty, entries };
  const found = findActiveSequence(ring, entryAt);
  if (!found) {
    return {
      ...empty,
      entries,
      warning:
        `LogGuid ${logGuid} is set but the log holds no valid entry sequence; treated as an empty log ` +
        `(a writer stopped between its header update and its first log write)`,
    };
  }
  return { ...empty, entries, active: withData(ring, found), needsReplay: true };
}

/**
 * §2.3.3 steps 1–7: try a sequence from every 4 KiB position, extend it while entries are valid
 * and numbered consecutively, keep it when the head's tail lies inside it, and keep the one with
 * the highest head SequenceNumber. Scans the whole ring once, wrapping at its end.
 */
export function findActiveSequence(
  ring: LogRing,
  entryAt: (pos: number) => EntryReport | null,
): Omit<ActiveSequence, "data"> | null {
  // Step 1.
  let candidate: EntryReport[] = [];
  let candidateSeq = 0n;
  let currentTail = 0;
  let oldTail = 0;
  // A bound on the outer loop in case a sequence covers the whole ring exactly and its head lands on its start.
  for (let round = 0; round <= ring.size / LOG_SECTOR_SIZE; round++) {
    // Step 2.
    const current: EntryReport[] = [];
    let head = currentTail;
    let seq = 0n;
    let covered = 0;
    // Step 3: extend while the entry at the head is valid and numbered one past the sequence.
    for (;;) {
      const e = entryAt(head);
      if (!e || !e.valid) break;
      if (current.length > 0 && e.sequenceNumber !== seq + 1n) break;
      // A sequence can never be longer than the ring it lives in.
      if (covered + e.entryLength > ring.size) break;
      current.push(e);
      covered += e.entryLength;
      seq = e.sequenceNumber;
      head = ring.wrap(head + e.entryLength);
    }
    // Step 4: valid when the head entry's Tail is the start of an entry of the sequence.
    let valid = false;
    let tailIndex = -1;
    if (current.length > 0) {
      const tail = current[current.length - 1].tail;
      tailIndex = current.findIndex((e) => e.position === tail);
      valid = tailIndex >= 0;
    }
    // Step 5: the highest head SequenceNumber wins; the part before the head's tail was already applied.
    if (valid && seq > candidateSeq) {
      candidate = current.slice(tailIndex);
      candidateSeq = seq;
    }
    // Step 6.
    if (!valid) {
      currentTail = currentTail + LOG_SECTOR_SIZE;
      if (currentTail === ring.size) currentTail = 0;
    } else {
      currentTail = head;
    }
    // Step 7.
    if (currentTail < oldTail || (valid && currentTail === oldTail)) break;
    oldTail = currentTail;
  }
  if (candidate.length === 0) return null;
  const headEntry = candidate[candidate.length - 1];
  return {
    entries: candidate,
    headSequenceNumber: candidateSeq,
    tail: candidate[0].position,
    head: headEntry.position,
    flushedFileOffset: headEntry.flushedFileOffset,
    lastFileOffset: headEntry.lastFileOffset,
  };
}

function withData(ring: LogRing, seq: Omit<ActiveSequence, "data">): ActiveSequence {
  const data = new Map<string, Uint8Array>();
  seq.entries.forEach((e, ei) => {
    for (const d of e.descriptors) {
      if (d.type !== "data" || d.dataSectorPosition == null) continue;
      data.set(
        dataKey(ei, d.index),
        restoreSector(dataDescriptorOf(d), parseDataSector(ring.read(d.dataSectorPosition, LOG_SECTOR_SIZE))),
      );
    }
  });
  return { ...seq, data };
}

export function dataKey(entryIndex: number, descriptorIndex: number): string {
  return `${entryIndex}:${descriptorIndex}`;
}

function dataDescriptorOf(d: DescriptorReport) {
  return {
    type: "data" as const,
    signature: d.signature,
    leadingBytes: d.leadingBytes ?? new Uint8Array(8),
    trailingBytes: d.trailingBytes ?? new Uint8Array(4),
    fileOffset: d.fileOffset ?? 0,
    sequenceNumber: d.sequenceNumber,
  };
}
