/**
 * Parent locator entries of a differencing disk's dynamic disk header: eight 24-byte entries, each
 * naming where a platform-specific description of the parent's location lies in the file.
 */
import { hex, VhdxError } from "../vhdx/errors";
import { fourCC, readU64BE, view, writeFourCC, writeU64BE } from "./bytes";

export const PARENT_LOCATOR_ENTRY_SIZE = 24;
export const PARENT_LOCATOR_ENTRIES = 8;

/** Platform codes: what a locator's data holds. */
export const PLATFORM_NONE = "";
/** Absolute Windows path, UTF-16 little-endian. */
export const PLATFORM_W2KU = "W2ku";
/** Windows path relative to the differencing disk's folder, UTF-16 little-endian. */
export const PLATFORM_W2RU = "W2ru";
/** Deprecated absolute and relative Windows paths (single-byte text). */
export const PLATFORM_WI2K = "Wi2k";
export const PLATFORM_WI2R = "Wi2r";
/** A Mac OS alias record, an opaque blob. */
export const PLATFORM_MAC = "Mac ";
/** A file URL, UTF-8 (RFC 2396). */
export const PLATFORM_MACX = "MacX";

export interface ParentLocatorEntry {
  /** Four characters; "" when the entry is unused (code 0). */
  platformCode: string;
  /** Space reserved for the data (documented in 512-byte sectors; most writers store bytes). */
  platformDataSpace: number;
  platformDataLength: number;
  reserved: number;
  platformDataOffset: number;
}

export function parseParentLocatorEntry(b: Uint8Array, at: number, fileOffset: number): ParentLocatorEntry {
  const dv = view(b);
  const code = dv.getUint32(at, false);
  return {
    platformCode: code === 0 ? PLATFORM_NONE : fourCC(b, at),
    platformDataSpace: dv.getUint32(at + 4, false),
    platformDataLength: dv.getUint32(at + 8, false),
    reserved: dv.getUint32(at + 12, false),
    platformDataOffset: readU64BE(dv, at + 16, "parent locator entry", fileOffset),
  };
}

export function serializeParentLocatorEntry(e: ParentLocatorEntry, b: Uint8Array, at: number): void {
  const dv = view(b);
  if (e.platformCode === PLATFORM_NONE) dv.setUint32(at, 0, false);
  else writeFourCC(b, at, e.platformCode);
  dv.setUint32(at + 4, e.platformDataSpace, false);
  dv.setUint32(at + 8, e.platformDataLength, false);
  dv.setUint32(at + 12, e.reserved, false);
  writeU64BE(dv, at + 16, e.platformDataOffset);
}

/** What one platform code's data says, decoded: a path or URL, or null for an opaque alias. */
export function decodeLocatorData(code: string, data: Uint8Array): string | null {
  switch (code) {
    case PLATFORM_W2KU:
    case PLATFORM_W2RU:
      return new TextDecoder("utf-16le").decode(data).replace(/\0+$/, "");
    case PLATFORM_WI2K:
    case PLATFORM_WI2R:
      return new TextDecoder("latin1").decode(data).replace(/\0+$/, "");
    case PLATFORM_MACX:
      return new TextDecoder("utf-8").decode(data).replace(/\0+$/, "");
    default:
      return null;
  }
}

/** UTF-16LE bytes of a path, for W2ku and W2ru data. */
export function encodeUtf16le(s: string): Uint8Array {
  const b = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    b[i * 2] = c & 0xff;
    b[i * 2 + 1] = c >>> 8;
  }
  return b;
}

/** Refuses an entry whose data does not lie inside the file (before the footer). */
export function checkLocatorData(e: ParentLocatorEntry, index: number, fileSize: number, entryOffset: number): void {
  if (e.platformCode === PLATFORM_NONE) return;
  if (e.platformDataLength > 64 * 1024)
    throw new VhdxError(
      "PARENT_LOCATOR_INVALID",
      `parent locator entry ${index} claims ${e.platformDataLength} bytes of data (limit 64 KiB)`,
      "parent locator entry",
      entryOffset,
    );
  if (e.platformDataOffset < 0 || e.platformDataOffset + e.platformDataLength > fileSize)
    throw new VhdxError(
      "PARENT_LOCATOR_INVALID",
      `parent locator entry ${index}'s data (${e.platformDataLength} bytes at ${hex(Math.max(0, e.platformDataOffset))}) runs past the end of the file (${hex(fileSize)})`,
      "parent locator entry",
      entryOffset,
    );
}
