import { ascii, MiB, readU64, view, writeU64 } from "./bytes";
import { crc32cWithZeroField } from "./crc32c";
import { VhdxError } from "./errors";
import { Guid, readGuid, writeGuid } from "./guid";

/** §2.2.2 Headers: two 4 KiB structures at 64 KiB and 128 KiB. */
export const HEADER_OFFSETS = [64 * 1024, 128 * 1024] as const;
export const HEADER_SIZE = 4096;
export const HEADER_SIGNATURE = "head";
export const HEADER_VERSION = 1;
export const LOG_VERSION = 0;

export interface Header {
  signature: string;
  checksum: number;
  /** u64; kept as bigint because the spec gives it all 64 bits. */
  sequenceNumber: bigint;
  fileWriteGuid: Guid;
  dataWriteGuid: Guid;
  logGuid: Guid;
  logVersion: number;
  version: number;
  logLength: number;
  logOffset: number;
}

/** Result of checking one header slot: the parsed fields (when readable) and why it is not valid. */
export interface HeaderSlot {
  index: 0 | 1;
  fileOffset: number;
  header: Header | null;
  computedChecksum: number;
  valid: boolean;
  /** Empty when valid. */
  problems: { code: "HEADER_CHECKSUM" | "HEADER_INVALID" | "UNSUPPORTED_VERSION" | "OUT_OF_RANGE"; message: string }[];
}

/** Parses a 4 KiB header without judging it; numbers past 2^53 throw OUT_OF_RANGE. */
export function parseHeader(bytes: Uint8Array, fileOffset = 0): Header {
  const dv = view(bytes);
  return {
    signature: ascii(bytes, 0, 4),
    checksum: dv.getUint32(4, true),
    sequenceNumber: dv.getBigUint64(8, true),
    fileWriteGuid: readGuid(bytes, 16),
    dataWriteGuid: readGuid(bytes, 32),
    logGuid: readGuid(bytes, 48),
    logVersion: dv.getUint16(64, true),
    version: dv.getUint16(66, true),
    logLength: dv.getUint32(68, true),
    logOffset: readU64(dv, 72, "header", fileOffset),
  };
}

/** Serializes to 4 KiB and fills in the checksum (the `checksum` field given is ignored). */
export function serializeHeader(h: Omit<Header, "checksum" | "signature">): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  const dv = view(out);
  for (let i = 0; i < 4; i++) out[i] = HEADER_SIGNATURE.charCodeAt(i);
  dv.setBigUint64(8, h.sequenceNumber, true);
  writeGuid(out, 16, h.fileWriteGuid);
  writeGuid(out, 32, h.dataWriteGuid);
  writeGuid(out, 48, h.logGuid);
  dv.setUint16(64, h.logVersion, true);
  dv.setUint16(66, h.version, true);
  dv.setUint32(68, h.logLength, true);
  writeU64(dv, 72, h.logOffset);
  dv.setUint32(4, crc32cWithZeroField(out, 4), true);
  return out;
}

/** Judges one header slot by §2.2.2: signature and checksum make it valid; version rules follow. */
export function checkHeaderSlot(bytes: Uint8Array, index: 0 | 1): HeaderSlot {
  const fileOffset = HEADER_OFFSETS[index];
  const computedChecksum = crc32cWithZeroField(bytes.subarray(0, HEADER_SIZE), 4);
  const problems: HeaderSlot["problems"] = [];
  let header: Header | null = null;
  try {
    header = parseHeader(bytes, fileOffset);
  } catch (e) {
    if (!(e instanceof VhdxError)) throw e;
    problems.push({ code: "OUT_OF_RANGE", message: e.message });
  }
  const sig = ascii(bytes, 0, 4);
  if (sig !== HEADER_SIGNATURE) {
    problems.push({
      code: "HEADER_INVALID",
      message: `header ${index + 1} signature is ${JSON.stringify(sig)}, expected "head"`,
    });
  } else if (header && header.checksum !== computedChecksum) {
    problems.push({
      code: "HEADER_CHECKSUM",
      message: `header ${index + 1} checksum 0x${header.checksum.toString(16)} does not match the computed 0x${computedChecksum.toString(16)}`,
    });
  }
  if (header && problems.length === 0) {
    if (header.version !== HEADER_VERSION) {
      problems.push({
        code: "UNSUPPORTED_VERSION",
        message: `header ${index + 1} version is ${header.version}, only version 1 is defined`,
      });
    }
    if (header.logLength % MiB !== 0 || header.logOffset % MiB !== 0) {
      problems.push({
        code: "HEADER_INVALID",
        message: `header ${index + 1} log offset ${header.logOffset} and length ${header.logLength} must be multiples of 1 MiB`,
      });
    } else if (header.logLength > 0 && header.logOffset < MiB) {
      problems.push({
        code: "HEADER_INVALID",
        message: `header ${index + 1} log at ${header.logOffset} lies inside the header section`,
      });
    }
  }
  return { index, fileOffset, header, computedChecksum, valid: problems.length === 0, problems };
}

/**
 * §2.2.2: the current header is the only valid one, or the valid one with the greater
 * SequenceNumber. Returns the index, or -1 when neither is valid.
 */
export function chooseCurrentHeader(slots: readonly HeaderSlot[]): 0 | 1 | -1 {
  const [a, b] = slots;
  if (a.valid && b.valid) return a.header!.sequenceNumber >= b.header!.sequenceNumber ? 0 : 1;
  if (a.valid) return 0;
  if (b.valid) return 1;
  return -1;
}
