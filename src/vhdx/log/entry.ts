import { ascii, view } from "../bytes";
import { crc32cWithZeroField } from "../crc32c";
import { Guid, readGuid, writeGuid } from "../guid";

/**
 * §2.3.1 Log entry: one or more 4 KiB descriptor sectors (the first opens with the 64-byte
 * entry header) followed by one 4 KiB data sector per data descriptor.
 */
export const LOG_SECTOR_SIZE = 4096;
export const LOG_ENTRY_SIGNATURE = "loge";
export const ZERO_DESCRIPTOR_SIGNATURE = "zero";
export const DATA_DESCRIPTOR_SIGNATURE = "desc";
export const DATA_SECTOR_SIGNATURE = "data";
export const ENTRY_HEADER_SIZE = 64;
export const DESCRIPTOR_SIZE = 32;
/** §2.3.1: the first descriptor sector holds the header and up to 126 descriptors … */
export const DESCRIPTORS_IN_FIRST_SECTOR = 126;
/** … each further descriptor sector up to 128. */
export const DESCRIPTORS_PER_SECTOR = 128;
/** §2.3.1.4: bytes 8 … 4091 of the update travel in the data sector. */
export const DATA_SECTOR_PAYLOAD = 4084;
export const LEADING_BYTES = 8;
export const TRAILING_BYTES = 4;

/**
 * §2.3.1.1 Entry header. The layout figure (and every file seen) gives DescriptorCount 4 bytes
 * followed by 4 reserved bytes, although the field list says 8: the layout is followed here.
 * u64 file offsets are kept as numbers; values beyond 2^53 are not safe integers and fail validation.
 */
export interface LogEntryHeader {
  signature: string;
  checksum: number;
  entryLength: number;
  tail: number;
  sequenceNumber: bigint;
  descriptorCount: number;
  reserved: number;
  logGuid: Guid;
  flushedFileOffset: number;
  lastFileOffset: number;
}

/** §2.3.1.2 Zero descriptor. */
export interface ZeroDescriptor {
  type: "zero";
  signature: string;
  reserved: number;
  zeroLength: number;
  fileOffset: number;
  sequenceNumber: bigint;
}

/** §2.3.1.3 Data descriptor. */
export interface DataDescriptor {
  type: "data";
  signature: string;
  /** The four bytes 4092 … 4095 of the update. */
  trailingBytes: Uint8Array;
  /** The eight bytes 0 … 7 of the update. */
  leadingBytes: Uint8Array;
  fileOffset: number;
  sequenceNumber: bigint;
}

/** A 32-byte slot whose signature is neither "zero" nor "desc"; kept so it can be reported. */
export interface UnknownDescriptor {
  type: "unknown";
  signature: string;
  sequenceNumber: bigint;
}

export type LogDescriptor = ZeroDescriptor | DataDescriptor | UnknownDescriptor;

/** §2.3.1.4 Data sector. */
export interface DataSector {
  signature: string;
  sequenceHigh: number;
  /** Bytes 8 … 4091 of the update (4084 bytes). */
  data: Uint8Array;
  sequenceLow: number;
}

/** Reads a u64 as a number; above 2^53 the result is inexact and not a safe integer, which validation rejects. */
function u64(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x100000000;
}

function setU64(dv: DataView, at: number, v: number): void {
  dv.setUint32(at, v % 0x100000000, true);
  dv.setUint32(at + 4, Math.floor(v / 0x100000000), true);
}

function setAscii(b: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
}

export function parseLogEntryHeader(bytes: Uint8Array, at = 0): LogEntryHeader {
  const b = bytes.subarray(at, at + ENTRY_HEADER_SIZE);
  const dv = view(b);
  return {
    signature: ascii(b, 0, 4),
    checksum: dv.getUint32(4, true),
    entryLength: dv.getUint32(8, true),
    tail: dv.getUint32(12, true),
    sequenceNumber: dv.getBigUint64(16, true),
    descriptorCount: dv.getUint32(24, true),
    reserved: dv.getUint32(28, true),
    logGuid: readGuid(b, 32),
    flushedFileOffset: u64(dv, 48),
    lastFileOffset: u64(dv, 56),
  };
}

/** 64 bytes, the checksum field written as given (the entry's CRC covers more than the header). */
export function serializeLogEntryHeader(h: Omit<LogEntryHeader, "signature">): Uint8Array {
  const out = new Uint8Array(ENTRY_HEADER_SIZE);
  const dv = view(out);
  setAscii(out, 0, LOG_ENTRY_SIGNATURE);
  dv.setUint32(4, h.checksum, true);
  dv.setUint32(8, h.entryLength, true);
  dv.setUint32(12, h.tail, true);
  dv.setBigUint64(16, h.sequenceNumber, true);
  dv.setUint32(24, h.descriptorCount, true);
  dv.setUint32(28, h.reserved, true);
  writeGuid(out, 32, h.logGuid);
  setU64(dv, 48, h.flushedFileOffset);
  setU64(dv, 56, h.lastFileOffset);
  return out;
}

export function parseDescriptor(bytes: Uint8Array, at = 0): LogDescriptor {
  const b = bytes.subarray(at, at + DESCRIPTOR_SIZE);
  const dv = view(b);
  const signature = ascii(b, 0, 4);
  const sequenceNumber = dv.getBigUint64(24, true);
  if (signature === ZERO_DESCRIPTOR_SIGNATURE) {
    return {
      type: "zero",
      signature,
      reserved: dv.getUint32(4, true),
      zeroLength: u64(dv, 8),
      fileOffset: u64(dv, 16),
      sequenceNumber,
    };
  }
  if (signature === DATA_DESCRIPTOR_SIGNATURE) {
    return {
      type: "data",
      signature,
      trailingBytes: b.slice(4, 8),
      leadingBytes: b.slice(8, 16),
      fileOffset: u64(dv, 16),
      sequenceNumber,
    };
  }
  return { type: "unknown", signature, sequenceNumber };
}

export function serializeZeroDescriptor(d: Omit<ZeroDescriptor, "type" | "signature">): Uint8Array {
  const out = new Uint8Array(DESCRIPTOR_SIZE);
  const dv = view(out);
  setAscii(out, 0, ZERO_DESCRIPTOR_SIGNATURE);
  dv.setUint32(4, d.reserved, true);
  setU64(dv, 8, d.zeroLength);
  setU64(dv, 16, d.fileOffset);
  dv.setBigUint64(24, d.sequenceNumber, true);
  return out;
}

export function serializeDataDescriptor(d: Omit<DataDescriptor, "type" | "signature">): Uint8Array {
  const out = new Uint8Array(DESCRIPTOR_SIZE);
  const dv = view(out);
  setAscii(out, 0, DATA_DESCRIPTOR_SIGNATURE);
  out.set(d.trailingBytes.subarray(0, TRAILING_BYTES), 4);
  out.set(d.leadingBytes.subarray(0, LEADING_BYTES), 8);
  setU64(dv, 16, d.fileOffset);
  dv.setBigUint64(24, d.sequenceNumber, true);
  return out;
}

export function parseDataSector(bytes: Uint8Array, at = 0): DataSector {
  const b = bytes.subarray(at, at + LOG_SECTOR_SIZE);
  const dv = view(b);
  return {
    signature: ascii(b, 0, 4),
    sequenceHigh: dv.getUint32(4, true),
    data: b.slice(8, 8 + DATA_SECTOR_PAYLOAD),
    sequenceLow: dv.getUint32(LOG_SECTOR_SIZE - 4, true),
  };
}

export function serializeDataSector(s: Omit<DataSector, "signature">): Uint8Array {
  const out = new Uint8Array(LOG_SECTOR_SIZE);
  const dv = view(out);
  setAscii(out, 0, DATA_SECTOR_SIGNATURE);
  dv.setUint32(4, s.sequenceHigh, true);
  out.set(s.data.subarray(0, DATA_SECTOR_PAYLOAD), 8);
  dv.setUint32(LOG_SECTOR_SIZE - 4, s.sequenceLow, true);
  return out;
}

/** §2.3.1.3–2.3.1.4: the 4 KiB update a data descriptor and its data sector stand for. */
export function restoreSector(d: DataDescriptor, s: DataSector): Uint8Array {
  const out = new Uint8Array(LOG_SECTOR_SIZE);
  out.set(d.leadingBytes, 0);
  out.set(s.data, LEADING_BYTES);
  out.set(d.trailingBytes, LOG_SECTOR_SIZE - TRAILING_BYTES);
  return out;
}

/** Splits a 4 KiB update into its data descriptor and data sector (the inverse of restoreSector). */
export function splitSector(
  update: Uint8Array,
  fileOffset: number,
  sequenceNumber: bigint,
): { descriptor: DataDescriptor; sector: DataSector } {
  if (update.length !== LOG_SECTOR_SIZE)
    throw new RangeError(`a data descriptor carries exactly 4096 bytes, not ${update.length}`);
  return {
    descriptor: {
      type: "data",
      signature: DATA_DESCRIPTOR_SIGNATURE,
      leadingBytes: update.slice(0, LEADING_BYTES),
      trailingBytes: update.slice(LOG_SECTOR_SIZE - TRAILING_BYTES),
      fileOffset,
      sequenceNumber,
    },
    sector: {
      signature: DATA_SECTOR_SIGNATURE,
      sequenceHigh: Number(sequenceNumber >> 32n),
      data: update.slice(LEADING_BYTES, LOG_SECTOR_SIZE - TRAILING_BYTES),
      sequenceLow: Number(sequenceNumber & 0xffffffffn),
    },
  };
}

/** §2.3.1: descriptor sectors needed for `count` descriptors (126 in the first, 128 in each further one). */
export function descriptorSectorCount(count: number): number {
  return count <= DESCRIPTORS_IN_FIRST_SECTOR
    ? 1
    : 1 + Math.ceil((count - DESCRIPTORS_IN_FIRST_SECTOR) / DESCRIPTORS_PER_SECTOR);
}

/** Byte offset, within the entry, of descriptor `i`. */
export function descriptorOffset(i: number): number {
  if (i < DESCRIPTORS_IN_FIRST_SECTOR) return ENTRY_HEADER_SIZE + i * DESCRIPTOR_SIZE;
  const k = i - DESCRIPTORS_IN_FIRST_SECTOR;
  return (
    LOG_SECTOR_SIZE * (1 + Math.floor(k / DESCRIPTORS_PER_SECTOR)) + (k % DESCRIPTORS_PER_SECTOR) * DESCRIPTOR_SIZE
  );
}

/** One update as an entry carries it: a 4 KiB sector of data, or a run of zeros. */
export type LogUpdate =
  { kind: "data"; fileOffset: number; data: Uint8Array } | { kind: "zero"; fileOffset: number; length: number };

export interface LogEntryFields {
  tail: number;
  sequenceNumber: bigint;
  logGuid: Guid;
  flushedFileOffset: number;
  lastFileOffset: number;
  updates: readonly LogUpdate[];
}

/**
 * Serializes a whole log entry: header, descriptors (continuing into further descriptor sectors
 * past 126), data sectors in descriptor order, EntryLength and the CRC-32C over all of it (§2.3.1.1).
 */
export function serializeLogEntry(e: LogEntryFields): Uint8Array {
  const descSectors = descriptorSectorCount(e.updates.length);
  const dataCount = e.updates.reduce((n, u) => n + (u.kind === "data" ? 1 : 0), 0);
  const entryLength = (descSectors + dataCount) * LOG_SECTOR_SIZE;
  const out = new Uint8Array(entryLength);
  out.set(
    serializeLogEntryHeader({
      checksum: 0,
      entryLength,
      tail: e.tail,
      sequenceNumber: e.sequenceNumber,
      descriptorCount: e.updates.length,
      reserved: 0,
      logGuid: e.logGuid,
      flushedFileOffset: e.flushedFileOffset,
      lastFileOffset: e.lastFileOffset,
    }),
    0,
  );
  let dataAt = descSectors * LOG_SECTOR_SIZE;
  e.updates.forEach((u, i) => {
    if (u.kind === "zero") {
      out.set(
        serializeZeroDescriptor({
          reserved: 0,
          zeroLength: u.length,
          fileOffset: u.fileOffset,
          sequenceNumber: e.sequenceNumber,
        }),
        descriptorOffset(i),
      );
    } else {
      const { descriptor, sector } = splitSector(u.data, u.fileOffset, e.sequenceNumber);
      out.set(serializeDataDescriptor(descriptor), descriptorOffset(i));
      out.set(serializeDataSector(sector), dataAt);
      dataAt += LOG_SECTOR_SIZE;
    }
  });
  view(out).setUint32(4, crc32cWithZeroField(out, 4), true);
  return out;
}
