/**
 * Hand-built logs for tests: entries serialized from the spec's layout (§2.3.1), each defect applied
 * to the bytes afterwards, placed anywhere in a ring (wrapping), inside a minimal file that has two
 * valid headers (§2.2.2) pointing at the log.
 */
import { MiB } from "../../src/vhdx/bytes";
import { crc32cWithZeroField } from "../../src/vhdx/crc32c";
import { Guid, ZERO_GUID } from "../../src/vhdx/guid";
import { Header, HEADER_OFFSETS, serializeHeader } from "../../src/vhdx/header";
import { MemoryBackend } from "../../src/vhdx/io";
import {
  descriptorOffset,
  descriptorSectorCount,
  LOG_SECTOR_SIZE,
  LogUpdate,
  serializeLogEntry,
} from "../../src/vhdx/log/entry";

export const LOG_GUID: Guid = "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a";
export const LOG_OFFSET = MiB;
export const FILE_SIZE = 4 * MiB;
/** First 4 KiB sector a test may target: past the file identifier, headers and region tables. */
export const TARGET = 2 * MiB;

export type Defect =
  | "signature"
  | "entryLengthUnaligned"
  | "entryLengthTooBig"
  | "entryLengthZero"
  | "descriptorCountHuge"
  | "descriptorCountPastData"
  | "logGuid"
  | "sequenceZero"
  | "reserved"
  | "descriptorSequence"
  | "descriptorSignature"
  | "dataSignature"
  | "sequenceHigh"
  | "sequenceLow"
  | "checksum"
  | "tailUnaligned"
  | "tailOutside"
  | "fileOffsetUnaligned"
  | "zeroLengthUnaligned"
  | "zeroReserved"
  | "flushedUnaligned"
  | "lastUnaligned"
  | "targetsHeader"
  | "targetsLog";

export interface EntrySpec {
  sequenceNumber: bigint;
  /** Defaults to the entry's own position. */
  tail?: number;
  updates?: LogUpdate[];
  logGuid?: Guid;
  flushedFileOffset?: number;
  lastFileOffset?: number;
  defect?: Defect;
}

/** A 4 KiB sector filled with `byte`, with distinct first and last bytes so Leading/TrailingBytes matter. */
export function sectorOf(byte: number, tag = 0): Uint8Array {
  const s = new Uint8Array(LOG_SECTOR_SIZE).fill(byte);
  for (let i = 0; i < 8; i++) s[i] = (tag + i * 17 + 1) & 0xff;
  for (let i = 0; i < 4; i++) s[LOG_SECTOR_SIZE - 4 + i] = (tag + i * 29 + 3) & 0xff;
  return s;
}

export function dataUpdate(fileOffset: number, byte: number): LogUpdate {
  return { kind: "data", fileOffset, data: sectorOf(byte, fileOffset >>> 12) };
}

export function zeroUpdate(fileOffset: number, length: number): LogUpdate {
  return { kind: "zero", fileOffset, length };
}

function u32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0, true);
}

/** Serializes an entry (at ring `position`, for the Tail default) with `spec.defect` applied. */
export function buildEntry(spec: EntrySpec, position: number, logLength = MiB): Uint8Array {
  const updates = spec.updates ?? [dataUpdate(TARGET, 0x11)];
  const d = spec.defect;
  const e = serializeLogEntry({
    tail: spec.tail ?? position,
    sequenceNumber: d === "sequenceZero" ? 0n : spec.sequenceNumber,
    logGuid: d === "logGuid" ? "11111111-2222-3333-4444-555555555555" : (spec.logGuid ?? LOG_GUID),
    flushedFileOffset: spec.flushedFileOffset ?? FILE_SIZE,
    lastFileOffset: spec.lastFileOffset ?? FILE_SIZE,
    updates,
  });
  const descSectors = descriptorSectorCount(updates.length);
  const firstData = descSectors * LOG_SECTOR_SIZE;
  const d0 = descriptorOffset(0);
  switch (d) {
    case "signature":
      e[0] = 0x4c; // "Loge"
      break;
    case "entryLengthUnaligned":
      u32(e, 8, e.length - 512);
      break;
    case "entryLengthTooBig":
      u32(e, 8, logLength + LOG_SECTOR_SIZE);
      break;
    case "entryLengthZero":
      u32(e, 8, 0);
      break;
    case "descriptorCountHuge":
      u32(e, 24, 0xffffffff);
      break;
    case "descriptorCountPastData":
      u32(e, 24, updates.length + 1);
      break;
    case "reserved":
      u32(e, 28, 7);
      break;
    case "descriptorSequence":
      e[d0 + 24] ^= 1;
      break;
    case "descriptorSignature":
      e[d0] = 0x78;
      break;
    case "dataSignature":
      e[firstData] = 0x44;
      break;
    case "sequenceHigh":
      e[firstData + 4] ^= 1;
      break;
    case "sequenceLow":
      e[firstData + LOG_SECTOR_SIZE - 4] ^= 1;
      break;
    case "tailUnaligned":
      u32(e, 12, (spec.tail ?? position) + 512);
      break;
    case "tailOutside":
      u32(e, 12, logLength);
      break;
    case "fileOffsetUnaligned":
      u32(e, d0 + 16, TARGET + 512);
      break;
    case "zeroLengthUnaligned":
      u32(e, d0 + 8, 1000);
      break;
    case "zeroReserved":
      u32(e, d0 + 4, 1);
      break;
    case "flushedUnaligned":
      u32(e, 48, FILE_SIZE + LOG_SECTOR_SIZE);
      break;
    case "lastUnaligned":
      u32(e, 56, FILE_SIZE + LOG_SECTOR_SIZE);
      break;
    case "targetsHeader":
      u32(e, d0 + 16, HEADER_OFFSETS[0]);
      break;
    case "targetsLog":
      u32(e, d0 + 16, LOG_OFFSET + 8 * LOG_SECTOR_SIZE);
      break;
  }
  if (d !== "checksum") u32(e, 4, crc32cWithZeroField(e, 4));
  else u32(e, 4, crc32cWithZeroField(e, 4) ^ 0x80);
  return e;
}

export interface TestFile {
  io: MemoryBackend;
  header: Header;
  logLength: number;
}

/** A file of FILE_SIZE bytes with both headers valid, the log at 1 MiB, and `logGuid` in the headers. */
export function makeFile(opts: { logLength?: number; logGuid?: Guid; size?: number } = {}): TestFile {
  const logLength = opts.logLength ?? MiB;
  const size = opts.size ?? Math.max(FILE_SIZE, LOG_OFFSET + logLength + MiB);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < 8; i++) bytes[i] = "vhdxfile".charCodeAt(i);
  const fields = {
    sequenceNumber: 5n,
    fileWriteGuid: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
    dataWriteGuid: "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
    logGuid: opts.logGuid ?? LOG_GUID,
    logVersion: 0,
    version: 1,
    logLength,
    logOffset: LOG_OFFSET,
  };
  bytes.set(serializeHeader({ ...fields, sequenceNumber: 4n }), HEADER_OFFSETS[0]);
  bytes.set(serializeHeader(fields), HEADER_OFFSETS[1]);
  const io = new MemoryBackend(bytes);
  const header: Header = { ...fields, signature: "head", checksum: 0 };
  return { io, header, logLength };
}

/** Writes `bytes` into the ring at `position`, wrapping at the end of the log. */
export async function place(f: TestFile, position: number, bytes: Uint8Array): Promise<void> {
  const first = Math.min(bytes.length, f.logLength - position);
  await f.io.write(LOG_OFFSET + position, bytes.subarray(0, first));
  if (first < bytes.length) await f.io.write(LOG_OFFSET, bytes.subarray(first));
}

/** Builds and places an entry; returns its length. */
export async function put(f: TestFile, position: number, spec: EntrySpec): Promise<number> {
  const e = buildEntry(spec, position, f.logLength);
  await place(f, position, e);
  return e.length;
}

/** Places a chain of entries back to back from `start`, numbered from `firstSeq`, every Tail at `tail` (default: the first). */
export async function chain(
  f: TestFile,
  start: number,
  firstSeq: bigint,
  specs: Omit<EntrySpec, "sequenceNumber">[],
  tail?: number,
): Promise<number[]> {
  const positions: number[] = [];
  let pos = start;
  for (let i = 0; i < specs.length; i++) {
    positions.push(pos);
    const len = await put(f, pos, { tail: tail ?? start, ...specs[i], sequenceNumber: firstSeq + BigInt(i) });
    pos = (pos + len) % f.logLength;
  }
  return positions;
}

export { ZERO_GUID };

/**
 * Byte-array equality that stays fast on megabytes (a generic deep-equal walks element by element)
 * and still says where the arrays part.
 */
export function expectBytes(actual: Uint8Array, expected: Uint8Array, what = "bytes"): void {
  let first = -1;
  const n = Math.min(actual.length, expected.length);
  if (!Buffer.from(actual.buffer, actual.byteOffset, n).equals(Buffer.from(expected.buffer, expected.byteOffset, n))) {
    for (let i = 0; i < n; i++) {
      if (actual[i] !== expected[i]) {
        first = i;
        break;
      }
    }
  }
  if (first >= 0)
    throw new Error(`${what} differ first at offset ${first}: ${actual[first]} instead of ${expected[first]}`);
  if (actual.length !== expected.length)
    throw new Error(`${what}: length ${actual.length} instead of ${expected.length}`);
}
