/**
 * The dynamic disk header: 1024 bytes at the footer's data offset in dynamic and differencing
 * disks. It places the BAT, gives the block size, and for a differencing disk names its parent.
 */
import { hex, VhdxError } from "../vhdx/errors";
import { onesComplementChecksum, readGuidBE, readU64BE, view, writeGuidBE, writeU64BE } from "./bytes";
import {
  parseParentLocatorEntry,
  PARENT_LOCATOR_ENTRIES,
  PARENT_LOCATOR_ENTRY_SIZE,
  serializeParentLocatorEntry,
  type ParentLocatorEntry,
} from "./parentLocator";

export const DYNAMIC_HEADER_SIZE = 1024;
export const DYNAMIC_HEADER_COOKIE = "cxsparse";
export const HEADER_VERSION = 0x00010000;
/** Where the parent locator entries start inside the header. */
export const PARENT_LOCATORS_AT = 576;
/** The default block size: 4096 sectors of 512 bytes. */
export const DEFAULT_VHD_BLOCK_SIZE = 2 * 1024 * 1024;

export interface DynamicHeader {
  cookie: string;
  /** Unused: all ones. */
  dataOffset: number;
  /** Offset of the BAT. */
  tableOffset: number;
  headerVersion: number;
  maxTableEntries: number;
  /** Bytes of data per block, not counting the block's sector bitmap. */
  blockSize: number;
  checksum: number;
  parentUniqueId: string;
  /** The parent's modification time, seconds since 2000-01-01 UTC. */
  parentTimeStamp: number;
  /** UTF-16 big-endian in the file. */
  parentUnicodeName: string;
  parentLocatorEntries: ParentLocatorEntry[];
}

export function parseDynamicHeader(b: Uint8Array, fileOffset: number): DynamicHeader {
  if (b.length < DYNAMIC_HEADER_SIZE) throw new RangeError("a dynamic disk header is 1024 bytes");
  const dv = view(b);
  const entries: ParentLocatorEntry[] = [];
  for (let i = 0; i < PARENT_LOCATOR_ENTRIES; i++)
    entries.push(parseParentLocatorEntry(b, PARENT_LOCATORS_AT + i * PARENT_LOCATOR_ENTRY_SIZE, fileOffset));
  return {
    cookie: new TextDecoder("latin1").decode(b.subarray(0, 8)),
    dataOffset: readU64BE(dv, 8, "dynamic disk header", fileOffset),
    tableOffset: readU64BE(dv, 16, "dynamic disk header", fileOffset),
    headerVersion: dv.getUint32(24, false),
    maxTableEntries: dv.getUint32(28, false),
    blockSize: dv.getUint32(32, false),
    checksum: dv.getUint32(36, false),
    parentUniqueId: readGuidBE(b, 40),
    parentTimeStamp: dv.getUint32(56, false),
    parentUnicodeName: new TextDecoder("utf-16be").decode(b.subarray(64, 576)).replace(/\0.*$/s, ""),
    parentLocatorEntries: entries,
  };
}

export function serializeDynamicHeader(h: DynamicHeader): Uint8Array {
  const b = new Uint8Array(DYNAMIC_HEADER_SIZE);
  const dv = view(b);
  for (let i = 0; i < 8; i++) b[i] = DYNAMIC_HEADER_COOKIE.charCodeAt(i);
  writeU64BE(dv, 8, h.dataOffset);
  writeU64BE(dv, 16, h.tableOffset);
  dv.setUint32(24, h.headerVersion, false);
  dv.setUint32(28, h.maxTableEntries, false);
  dv.setUint32(32, h.blockSize, false);
  writeGuidBE(b, 40, h.parentUniqueId);
  dv.setUint32(56, h.parentTimeStamp, false);
  const name = h.parentUnicodeName.slice(0, 256);
  for (let i = 0; i < name.length; i++) dv.setUint16(64 + i * 2, name.charCodeAt(i), false);
  for (let i = 0; i < PARENT_LOCATOR_ENTRIES; i++) {
    const e = h.parentLocatorEntries[i];
    if (e) serializeParentLocatorEntry(e, b, PARENT_LOCATORS_AT + i * PARENT_LOCATOR_ENTRY_SIZE);
  }
  dv.setUint32(36, onesComplementChecksum(b, 36), false);
  return b;
}

/** Reads and checks a dynamic disk header: cookie, checksum, version, block size. */
export function readDynamicHeader(b: Uint8Array, fileOffset: number): DynamicHeader {
  const s = "dynamic disk header";
  if (new TextDecoder("latin1").decode(b.subarray(0, 8)) !== DYNAMIC_HEADER_COOKIE)
    throw new VhdxError("VHD_HEADER_INVALID", `no "cxsparse" cookie at ${hex(fileOffset)}`, s, fileOffset);
  const sum = onesComplementChecksum(b.subarray(0, DYNAMIC_HEADER_SIZE), 36);
  const h = parseDynamicHeader(b, fileOffset);
  if (h.checksum !== sum)
    throw new VhdxError(
      "VHD_HEADER_CHECKSUM",
      `dynamic disk header checksum is ${hex(h.checksum)}, its bytes sum to ${hex(sum)}`,
      s,
      fileOffset + 36,
    );
  if (h.headerVersion >>> 16 !== 1)
    throw new VhdxError(
      "UNSUPPORTED_VERSION",
      `dynamic disk header version ${hex(h.headerVersion)} is not 1.x`,
      s,
      fileOffset + 24,
    );
  const bs = h.blockSize;
  if (bs < 512 || bs > 0x80000000 || (bs & (bs - 1)) !== 0)
    throw new VhdxError(
      "VHD_HEADER_INVALID",
      `block size ${bs} is not a power of two from 512 bytes to 2 GiB`,
      s,
      fileOffset + 32,
    );
  return h;
}

/** Bytes of a block's sector bitmap: one bit per 512-byte sector, padded to a whole sector. */
export function sectorBitmapSize(blockSize: number): number {
  return Math.ceil(blockSize / 512 / 8 / 512) * 512;
}
