import { hex } from "../errors";
import { crc32cUpdate } from "../crc32c";
import { Guid } from "../guid";
import { ascii, MiB } from "../bytes";
import {
  DATA_SECTOR_SIGNATURE,
  DESCRIPTOR_SIZE,
  descriptorOffset,
  descriptorSectorCount,
  ENTRY_HEADER_SIZE,
  LOG_ENTRY_SIGNATURE,
  LOG_SECTOR_SIZE,
  LogEntryHeader,
  parseDescriptor,
  parseLogEntryHeader,
} from "./entry";
import { LogRing } from "./ring";

/** The file identifier and both headers: §2.2.1 forbids writing the first 64 KiB, §2.2.2 keeps headers out of the log. */
export const LOG_FORBIDDEN_PREFIX = 192 * 1024;
/** Descriptor problems listed one by one before the rest are only counted. */
const MAX_DESCRIPTOR_PROBLEMS = 8;
/** Descriptor reports one scan keeps for display, whatever the entries claim; the rest are checked, counted, not kept. */
export const MAX_KEPT_DESCRIPTORS = 65536;

/** One descriptor of an entry as found, with what the replay needs. */
export interface DescriptorReport {
  index: number;
  type: "zero" | "data" | "unknown";
  signature: string;
  /** Null for an unknown descriptor. */
  fileOffset: number | null;
  /** 4096 for a data descriptor, ZeroLength for a zero descriptor, 0 for an unknown one. */
  length: number;
  sequenceNumber: bigint;
  /** Data descriptors: the eight leading and four trailing bytes of the update. */
  leadingBytes?: Uint8Array;
  trailingBytes?: Uint8Array;
  /** Data descriptors: ring position of the associated data sector (null when it lies outside the entry). */
  dataSectorPosition?: number | null;
}

/** The verdict on the entry starting at one 4 KiB position of the ring. */
export interface EntryReport {
  position: number;
  header: LogEntryHeader;
  sequenceNumber: bigint;
  tail: number;
  entryLength: number;
  descriptorCount: number;
  flushedFileOffset: number;
  lastFileOffset: number;
  logGuidMatch: boolean;
  /** False also when EntryLength is unusable, so the checksum could not be computed. */
  checksumOk: boolean;
  valid: boolean;
  /** The first problem, or null when valid. */
  reason: string | null;
  problems: string[];
  /** The descriptors, in order, as long as the scan's budget lasts (see `descriptorsOmitted`). */
  descriptors: DescriptorReport[];
  /** Descriptors checked but not kept: the scan's budget (MAX_KEPT_DESCRIPTORS) ran out. */
  descriptorsOmitted: number;
}

export interface ValidationContext {
  /** The current header's LogGuid. */
  logGuid: Guid;
  /** LogOffset from the header: descriptors must not write into the log itself. */
  logOffset: number;
  /** Descriptor reports still to be kept, shared by every entry of one scan (MAX_KEPT_DESCRIPTORS when absent). */
  budget?: { descriptors: number };
}

/** True when the 4 KiB sector at `position` opens with "loge", the only way an entry can start there. */
export async function hasEntrySignature(ring: LogRing, position: number): Promise<boolean> {
  const b = await ring.read(position, 4);
  return b[0] === 0x6c && b[1] === 0x6f && b[2] === 0x67 && b[3] === 0x65;
}

/**
 * Checks the entry at `position` against every rule of §2.3.1. Work and memory are bounded by
 * the ring size whatever the header claims: descriptors are only read inside EntryLength, and
 * EntryLength is only trusted once it is known to fit the ring. The entry is streamed through the
 * ring's window, never held whole, so an entry as long as a 4 GiB log costs a window of memory.
 */
export async function validateEntry(ring: LogRing, position: number, ctx: ValidationContext): Promise<EntryReport> {
  const header = parseLogEntryHeader(await ring.read(position, ENTRY_HEADER_SIZE));
  const problems: string[] = [];
  const report: EntryReport = {
    position,
    header,
    sequenceNumber: header.sequenceNumber,
    tail: header.tail,
    entryLength: header.entryLength,
    descriptorCount: header.descriptorCount,
    flushedFileOffset: header.flushedFileOffset,
    lastFileOffset: header.lastFileOffset,
    logGuidMatch: header.logGuid === ctx.logGuid,
    checksumOk: false,
    valid: false,
    reason: null,
    problems,
    descriptors: [],
    descriptorsOmitted: 0,
  };
  const finish = (): EntryReport => {
    report.valid = problems.length === 0;
    report.reason = problems[0] ?? null;
    return report;
  };

  // §2.3.1.1 Signature.
  if (header.signature !== LOG_ENTRY_SIGNATURE) {
    problems.push(`entry signature is ${JSON.stringify(header.signature)}, expected "loge"`);
    return finish();
  }
  // §2.3.1.1 EntryLength: a multiple of 4 KiB; an entry cannot be longer than the log holding it.
  const len = header.entryLength;
  if (len === 0 || len % LOG_SECTOR_SIZE !== 0) {
    problems.push(`EntryLength ${hex(len)} is not a non-zero multiple of 4 KiB`);
    return finish();
  }
  if (len > ring.size) {
    problems.push(`EntryLength ${hex(len)} exceeds the log size ${hex(ring.size)}`);
    return finish();
  }
  checkHeaderFields(header, ring, ctx, problems);
  await checkDescriptors(ring, position, header, ctx, report, problems);
  // §2.3.1.1 Checksum: CRC-32C over the whole entry with the Checksum field taken as zero.
  const computed = await entryChecksum(ring, position, len);
  report.checksumOk = computed === header.checksum;
  if (!report.checksumOk) {
    problems.push(`entry checksum ${hex(header.checksum)} does not match the computed ${hex(computed)}`);
  }
  return finish();
}

function checkHeaderFields(h: LogEntryHeader, ring: LogRing, ctx: ValidationContext, problems: string[]): void {
  // §2.3.1.1 LogGuid: an entry written under another LogGuid MUST NOT be considered valid.
  if (h.logGuid !== ctx.logGuid)
    problems.push(`entry LogGuid ${h.logGuid} differs from the header's LogGuid ${ctx.logGuid}`);
  // §2.3.1.1 SequenceNumber must be larger than zero.
  if (h.sequenceNumber === 0n) problems.push("entry SequenceNumber is 0; it must be larger than zero");
  if (h.reserved !== 0) problems.push(`entry Reserved field is ${hex(h.reserved)}, it must be 0`);
  // §2.3.1.1 Tail: a multiple of 4 KiB, an offset inside the log.
  if (h.tail % LOG_SECTOR_SIZE !== 0) problems.push(`Tail ${hex(h.tail)} is not a multiple of 4 KiB`);
  else if (h.tail >= ring.size) problems.push(`Tail ${hex(h.tail)} lies outside the log (size ${hex(ring.size)})`);
  // §2.3.1.1 FlushedFileOffset and LastFileOffset: multiples of 1 MiB.
  for (const [name, v] of [
    ["FlushedFileOffset", h.flushedFileOffset],
    ["LastFileOffset", h.lastFileOffset],
  ] as const) {
    if (!Number.isSafeInteger(v)) problems.push(`${name} ${hex(BigInt(v))} is beyond 2^53`);
    else if (v % MiB !== 0) problems.push(`${name} ${hex(v)} is not a multiple of 1 MiB`);
  }
}

/** CRC-32C of the entry at `position`, streamed, its Checksum field (bytes 4–7) taken as zero. */
async function entryChecksum(ring: LogRing, position: number, length: number): Promise<number> {
  let crc = 0;
  let at = 0;
  await ring.forEachChunk(position, length, (chunk) => {
    if (at < 8) {
      const head = chunk.slice(0, Math.min(chunk.length, 8 - at));
      for (let i = 0; i < head.length; i++) if (at + i >= 4) head[i] = 0;
      crc = crc32cUpdate(crc, head);
      crc = crc32cUpdate(crc, chunk.subarray(head.length));
    } else crc = crc32cUpdate(crc, chunk);
    at += chunk.length;
  });
  return crc;
}

async function checkDescriptors(
  ring: LogRing,
  position: number,
  h: LogEntryHeader,
  ctx: ValidationContext,
  report: EntryReport,
  problems: string[],
): Promise<void> {
  const sectors = h.entryLength / LOG_SECTOR_SIZE;
  const budget = ctx.budget ?? { descriptors: MAX_KEPT_DESCRIPTORS };
  // §2.3.1 DescriptorCount: its descriptor sectors, computed without looping, must fit in the entry.
  const descSectors = descriptorSectorCount(h.descriptorCount);
  if (descSectors > sectors) {
    problems.push(
      `DescriptorCount ${h.descriptorCount} needs ${descSectors} descriptor sectors but EntryLength holds only ${sectors} sectors`,
    );
    return;
  }
  const descProblems: string[] = [];
  let dataSectors = 0;
  const seq = h.sequenceNumber;
  for (let i = 0; i < h.descriptorCount; i++) {
    const d = parseDescriptor(await ring.read(position + descriptorOffset(i), DESCRIPTOR_SIZE));
    const where = `descriptor ${i}`;
    const r: DescriptorReport = {
      index: i,
      type: d.type,
      signature: d.signature,
      fileOffset: null,
      length: 0,
      sequenceNumber: d.sequenceNumber,
    };
    if (budget.descriptors > 0) {
      budget.descriptors--;
      report.descriptors.push(r);
    } else report.descriptorsOmitted++;
    if (d.type === "unknown") {
      descProblems.push(`${where} signature is ${JSON.stringify(d.signature)}, expected "desc" or "zero"`);
      continue;
    }
    // §2.3.1.2–2.3.1.3 SequenceNumber MUST match the entry header's.
    if (d.sequenceNumber !== seq)
      descProblems.push(`${where} SequenceNumber ${d.sequenceNumber} differs from the entry's ${seq}`);
    r.fileOffset = d.fileOffset;
    if (!Number.isSafeInteger(d.fileOffset)) descProblems.push(`${where} FileOffset is beyond 2^53`);
    else if (d.fileOffset % LOG_SECTOR_SIZE !== 0)
      descProblems.push(`${where} FileOffset ${hex(d.fileOffset)} is not a multiple of 4 KiB`);
    if (d.type === "zero") {
      r.length = d.zeroLength;
      if (d.reserved !== 0) descProblems.push(`${where} (zero) Reserved field is ${hex(d.reserved)}, it must be 0`);
      if (!Number.isSafeInteger(d.zeroLength) || !Number.isSafeInteger(d.fileOffset + d.zeroLength)) {
        descProblems.push(`${where} (zero) ZeroLength reaches beyond 2^53`);
      } else if (d.zeroLength % LOG_SECTOR_SIZE !== 0) {
        descProblems.push(`${where} (zero) ZeroLength ${hex(d.zeroLength)} is not a multiple of 4 KiB`);
      }
    } else {
      r.length = LOG_SECTOR_SIZE;
      r.leadingBytes = d.leadingBytes;
      r.trailingBytes = d.trailingBytes;
      // §2.3.1: data sectors follow the descriptor sectors, one per data descriptor, in order.
      const sectorIndex = descSectors + dataSectors++;
      if (sectorIndex >= sectors) {
        r.dataSectorPosition = null;
      } else {
        const at = ring.wrap(position + sectorIndex * LOG_SECTOR_SIZE);
        r.dataSectorPosition = at;
        await checkDataSector(ring, at, seq, where, descProblems);
      }
    }
    checkTarget(r, ring, ctx, where, descProblems);
  }
  if (descSectors + dataSectors > sectors) {
    problems.push(
      `${dataSectors} data descriptors need ${descSectors + dataSectors} sectors in all but EntryLength holds only ${sectors}`,
    );
  }
  problems.push(...descProblems.slice(0, MAX_DESCRIPTOR_PROBLEMS));
  if (descProblems.length > MAX_DESCRIPTOR_PROBLEMS)
    problems.push(`… and ${descProblems.length - MAX_DESCRIPTOR_PROBLEMS} more descriptor problems`);
}

/** §2.3.1.4: "data" signature, SequenceHigh and SequenceLow equal to the entry's SequenceNumber halves. */
async function checkDataSector(ring: LogRing, at: number, seq: bigint, where: string, out: string[]): Promise<void> {
  // Only the signature and the two sequence halves are checked: no copy of the 4084 data bytes.
  const b = await ring.read(at, LOG_SECTOR_SIZE);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const s = {
    signature: ascii(b, 0, 4),
    sequenceHigh: dv.getUint32(4, true),
    sequenceLow: dv.getUint32(LOG_SECTOR_SIZE - 4, true),
  };
  if (s.signature !== DATA_SECTOR_SIGNATURE) {
    out.push(
      `${where}: its data sector at log offset ${hex(at)} has signature ${JSON.stringify(s.signature)}, expected "data"`,
    );
    return;
  }
  const high = Number(seq >> 32n);
  const low = Number(seq & 0xffffffffn);
  if (s.sequenceHigh !== high || s.sequenceLow !== low) {
    const found = (BigInt(s.sequenceHigh) << 32n) | BigInt(s.sequenceLow);
    out.push(
      `${where}: its data sector at log offset ${hex(at)} carries sequence number ${found} (SequenceHigh/SequenceLow), the entry's is ${seq}`,
    );
  }
}

/**
 * The log never writes the file identifier or headers (§2.2.1: the first 64 KiB are never
 * overwritten; §2.2.2: headers cannot be updated through the log) nor the log itself (§2.2.2 LogOffset:
 * the log overlaps no other structure).
 */
function checkTarget(r: DescriptorReport, ring: LogRing, ctx: ValidationContext, where: string, out: string[]): void {
  if (r.fileOffset === null || !Number.isSafeInteger(r.fileOffset) || !Number.isSafeInteger(r.fileOffset + r.length))
    return;
  const start = r.fileOffset;
  const end = start + r.length;
  if (r.length === 0) return;
  if (start < LOG_FORBIDDEN_PREFIX) {
    out.push(
      `${where} writes file range ${hex(start)}–${hex(end)}, inside the file identifier and headers (below ${hex(LOG_FORBIDDEN_PREFIX)})`,
    );
  } else if (start < ctx.logOffset + ring.size && end > ctx.logOffset) {
    out.push(`${where} writes file range ${hex(start)}–${hex(end)}, inside the log itself`);
  }
}
