import { hex, VhdxError } from "../errors";
import { Header } from "../header";
import { isZeroGuid } from "../guid";
import { RandomAccess } from "../io";
import { LOG_SECTOR_SIZE } from "./entry";
import { LOG_WINDOW, LogRing } from "./ring";
import { EntryReport, hasEntrySignature, MAX_KEPT_DESCRIPTORS, validateEntry, ValidationContext } from "./validate";

const ENTRY_SIGNATURE = new TextEncoder().encode("loge");
/** Entries a scan lists (the search itself looks at every position, whatever the count). */
export const MAX_LISTED_ENTRIES = 4096;
/** Entry reports the search keeps at once; an evicted one is validated again if it is needed again. */
const REPORT_CACHE = 4096;

/** The active sequence (§2.3.3): what a replay writes, tail entry first. */
export interface ActiveSequence {
  /** Entries in replay order, from the head's tail to the head: the first MAX_LISTED_ENTRIES of them. */
  entries: EntryReport[];
  /** Entries in the sequence (more than `entries` holds when the list was cut). */
  entryCount: number;
  /** Ring position of every entry of the sequence, in replay order. */
  positions: number[];
  /** SequenceNumber of the tail entry; the others follow it one by one (§2.3.3 step 3). */
  tailSequenceNumber: bigint;
  headSequenceNumber: bigint;
  /** Ring position of the tail entry. */
  tail: number;
  /** Ring position of the head entry. */
  head: number;
  flushedFileOffset: number;
  lastFileOffset: number;
}

export interface LogScan {
  logOffset: number;
  logLength: number;
  /** Entries whose sector opens with "loge", at any 4 KiB position of the ring, in position order (at most MAX_LISTED_ENTRIES). */
  entries: EntryReport[];
  /** Entries found past the listing limit: validated, counted, not kept. */
  entriesNotListed: number;
  /** False when the ring was not swept for entries (a clean log at open: nothing to list or replay). */
  listed: boolean;
  active: ActiveSequence | null;
  /** LogGuid is non-zero and an active sequence exists: the log MUST be replayed before other I/O. */
  needsReplay: boolean;
  /** Set when LogGuid is non-zero yet no valid sequence exists; the log is then treated as empty. */
  warning: string | null;
  /** The log region the scan read, through a bounded window; the replay reads the entries' updates from it. */
  ring: LogRing | null;
}

export interface ScanOptions {
  /**
   * Sweep the whole ring for entries to list (default true). Open passes false: with LogGuid zero
   * nothing is read at all, and with LogGuid set only the search (§2.3.3) runs.
   */
  listEntries?: boolean;
}

/**
 * Finds every entry and the active sequence, reading the log region through a window of
 * LOG_WINDOW bytes: memory stays bounded whatever LogLength says, up to the 4 GiB a u32 allows.
 */
export async function scanLog(io: RandomAccess, header: Header, opts: ScanOptions = {}): Promise<LogScan> {
  const { logOffset, logLength, logGuid } = header;
  const listEntries = opts.listEntries ?? true;
  const empty: LogScan = {
    logOffset,
    logLength,
    entries: [],
    entriesNotListed: 0,
    listed: listEntries,
    active: null,
    needsReplay: false,
    warning: null,
    ring: null,
  };
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
  // §2.2.2 LogGuid: zero means the log is empty and MUST NOT be replayed; only a listing reads it.
  if (isZeroGuid(logGuid) && !listEntries) return empty;
  const ring = await LogRing.over(io, logOffset, logLength);
  const ctx: ValidationContext = { logGuid, logOffset, budget: { descriptors: MAX_KEPT_DESCRIPTORS } };

  const reports = new Map<number, EntryReport>();
  const entryAt = async (pos: number): Promise<EntryReport | null> => {
    let r = reports.get(pos);
    if (r) return r;
    if (!(await hasEntrySignature(ring, pos))) return null;
    r = await validateEntry(ring, pos, ctx);
    if (reports.size >= REPORT_CACHE) reports.delete(reports.keys().next().value as number);
    reports.set(pos, r);
    return r;
  };
  const entries: EntryReport[] = [];
  let entriesNotListed = 0;
  if (listEntries) {
    for (let from = 0; from < logLength; from += LOG_WINDOW) {
      for (const pos of await ring.positionsWithSignature(from, ENTRY_SIGNATURE)) {
        const r = await entryAt(pos);
        if (!r) continue;
        if (entries.length < MAX_LISTED_ENTRIES) entries.push(r);
        else entriesNotListed++;
      }
    }
  }
  const base = { ...empty, entries, entriesNotListed, ring };
  if (isZeroGuid(logGuid)) return base;
  const found = await findActiveSequence(ring, entryAt);
  if (!found) {
    return {
      ...base,
      warning:
        `LogGuid ${logGuid} is set but the log holds no valid entry sequence; treated as an empty log ` +
        `(a writer stopped between its header update and its first log write)`,
    };
  }
  // The listed entries of the sequence, validated again only if the cache let them go.
  const listedActive: EntryReport[] = [];
  for (const pos of found.positions.slice(0, MAX_LISTED_ENTRIES)) {
    const e = await entryAt(pos);
    if (e) listedActive.push(e);
  }
  return { ...base, active: { ...found, entries: listedActive }, needsReplay: true };
}

/**
 * §2.3.3 steps 1–7: try a sequence from every 4 KiB position, extend it while entries are valid
 * and numbered consecutively, keep it when the head's tail lies inside it, and keep the one with
 * the highest head SequenceNumber. Scans the whole ring once, wrapping at its end. Only positions
 * are kept (at most one per 4 KiB of the ring), never the entries themselves.
 */
export async function findActiveSequence(
  ring: LogRing,
  entryAt: (pos: number) => Promise<EntryReport | null>,
): Promise<Omit<ActiveSequence, "entries"> | null> {
  // Step 1.
  let candidate: number[] = [];
  let candidateSeq = 0n;
  let candidateHead: EntryReport | null = null;
  let currentTail = 0;
  let oldTail = 0;
  // A bound on the outer loop in case a sequence covers the whole ring exactly and its head lands on its start.
  for (let round = 0; round <= ring.size / LOG_SECTOR_SIZE; round++) {
    // Step 2.
    const current: number[] = [];
    let last: EntryReport | null = null;
    let head = currentTail;
    let seq = 0n;
    let covered = 0;
    // Step 3: extend while the entry at the head is valid and numbered one past the sequence.
    for (;;) {
      const e = await entryAt(head);
      if (!e || !e.valid) break;
      if (current.length > 0 && e.sequenceNumber !== seq + 1n) break;
      // A sequence can never be longer than the ring it lives in.
      if (covered + e.entryLength > ring.size) break;
      current.push(e.position);
      last = e;
      covered += e.entryLength;
      seq = e.sequenceNumber;
      head = ring.wrap(head + e.entryLength);
    }
    // Step 4: valid when the head entry's Tail is the start of an entry of the sequence.
    let tailIndex = -1;
    if (last) tailIndex = current.indexOf(last.tail);
    const valid = tailIndex >= 0;
    // Step 5: the highest head SequenceNumber wins; the part before the head's tail was already applied.
    if (valid && seq > candidateSeq) {
      candidate = current.slice(tailIndex);
      candidateSeq = seq;
      candidateHead = last;
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
  if (candidate.length === 0 || !candidateHead) return null;
  return {
    entryCount: candidate.length,
    positions: candidate,
    tailSequenceNumber: candidateSeq - BigInt(candidate.length - 1),
    headSequenceNumber: candidateSeq,
    tail: candidate[0],
    head: candidateHead.position,
    flushedFileOffset: candidateHead.flushedFileOffset,
    lastFileOffset: candidateHead.lastFileOffset,
  };
}
