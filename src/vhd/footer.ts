/**
 * The hard disk footer: 512 bytes at the end of every VHD, and a copy at offset 0 of dynamic and
 * differencing disks. Big-endian; its checksum is the one's complement of its byte sum.
 */
import { hex, VhdxError } from "../vhdx/errors";
import {
  fourCC,
  onesComplementChecksum,
  readGuidBE,
  readU64BE,
  view,
  writeFourCC,
  writeGuidBE,
  writeU64BE,
} from "./bytes";
import type { ChsGeometry } from "./geometry";

export const FOOTER_SIZE = 512;
export const FOOTER_COOKIE = "conectix";
/** Features: bit 1 is reserved and must always be set; bit 0 marks a temporary disk. */
export const FEATURE_TEMPORARY = 0x1;
export const FEATURE_RESERVED = 0x2;
export const FILE_FORMAT_VERSION = 0x00010000;

export const DISK_TYPE_FIXED = 2;
export const DISK_TYPE_DYNAMIC = 3;
export const DISK_TYPE_DIFFERENCING = 4;

export type VhdDiskType = "fixed" | "dynamic" | "differencing";

export function diskTypeName(t: number): VhdDiskType | null {
  if (t === DISK_TYPE_FIXED) return "fixed";
  if (t === DISK_TYPE_DYNAMIC) return "dynamic";
  if (t === DISK_TYPE_DIFFERENCING) return "differencing";
  return null;
}

export interface Footer {
  cookie: string;
  features: number;
  fileFormatVersion: number;
  /** Offset of the dynamic disk header; -1 (all ones) for fixed disks. */
  dataOffset: number;
  /** Seconds since 2000-01-01 00:00:00 UTC. */
  timeStamp: number;
  creatorApplication: string;
  creatorVersion: number;
  creatorHostOs: string;
  originalSize: number;
  /** The virtual disk's size in bytes. */
  currentSize: number;
  diskGeometry: ChsGeometry;
  diskType: number;
  checksum: number;
  uniqueId: string;
  savedState: number;
}

/** True when `b` starts with the "conectix" cookie. */
export function hasFooterCookie(b: Uint8Array): boolean {
  if (b.length < 8) return false;
  for (let i = 0; i < 8; i++) if (b[i] !== FOOTER_COOKIE.charCodeAt(i)) return false;
  return true;
}

/** Parses the fields as they are; `footerProblem` judges them. */
export function parseFooter(b: Uint8Array, fileOffset: number): Footer {
  if (b.length < FOOTER_SIZE) throw new RangeError("a footer is 512 bytes");
  const dv = view(b);
  const at = (o: number) => readU64BE(dv, o, "footer", fileOffset);
  return {
    cookie: new TextDecoder("latin1").decode(b.subarray(0, 8)),
    features: dv.getUint32(8, false),
    fileFormatVersion: dv.getUint32(12, false),
    dataOffset: at(16),
    timeStamp: dv.getUint32(24, false),
    creatorApplication: fourCC(b, 28),
    creatorVersion: dv.getUint32(32, false),
    creatorHostOs: fourCC(b, 36),
    originalSize: at(40),
    currentSize: at(48),
    diskGeometry: { cylinders: dv.getUint16(56, false), heads: b[58], sectorsPerTrack: b[59] },
    diskType: dv.getUint32(60, false),
    checksum: dv.getUint32(64, false),
    uniqueId: readGuidBE(b, 68),
    savedState: b[84],
  };
}

/** The 512 bytes of `f`, its checksum computed afresh (the `checksum` field is ignored). */
export function serializeFooter(f: Footer): Uint8Array {
  const b = new Uint8Array(FOOTER_SIZE);
  const dv = view(b);
  for (let i = 0; i < 8; i++) b[i] = FOOTER_COOKIE.charCodeAt(i);
  dv.setUint32(8, f.features, false);
  dv.setUint32(12, f.fileFormatVersion, false);
  writeU64BE(dv, 16, f.dataOffset);
  dv.setUint32(24, f.timeStamp, false);
  writeFourCC(b, 28, f.creatorApplication);
  dv.setUint32(32, f.creatorVersion, false);
  writeFourCC(b, 36, f.creatorHostOs);
  writeU64BE(dv, 40, f.originalSize);
  writeU64BE(dv, 48, f.currentSize);
  dv.setUint16(56, f.diskGeometry.cylinders, false);
  b[58] = f.diskGeometry.heads;
  b[59] = f.diskGeometry.sectorsPerTrack;
  dv.setUint32(60, f.diskType, false);
  writeGuidBE(b, 68, f.uniqueId);
  b[84] = f.savedState;
  dv.setUint32(64, onesComplementChecksum(b, 64), false);
  return b;
}

/**
 * Reads and checks the footer at `fileOffset`: cookie, checksum, version, disk type, sizes. Throws
 * a VhdxError naming the footer and its offset.
 */
export function readFooter(b: Uint8Array, fileOffset: number): Footer {
  if (!hasFooterCookie(b))
    throw new VhdxError("NOT_VHD", `no "conectix" cookie at ${hex(fileOffset)}`, "footer", fileOffset);
  const sum = onesComplementChecksum(b.subarray(0, FOOTER_SIZE), 64);
  const f = parseFooter(b, fileOffset);
  if (f.checksum !== sum)
    throw new VhdxError(
      "VHD_FOOTER_CHECKSUM",
      `footer checksum is ${hex(f.checksum)}, its bytes sum to ${hex(sum)}`,
      "footer",
      fileOffset + 64,
    );
  if (f.fileFormatVersion >>> 16 !== 1)
    throw new VhdxError(
      "UNSUPPORTED_VERSION",
      `footer file format version ${hex(f.fileFormatVersion)} is not 1.x`,
      "footer",
      fileOffset + 12,
    );
  if (diskTypeName(f.diskType) === null)
    throw new VhdxError(
      "VHD_FOOTER_INVALID",
      `disk type ${f.diskType} is not fixed (2), dynamic (3) or differencing (4)`,
      "footer",
      fileOffset + 60,
    );
  if (f.currentSize % 512 !== 0)
    throw new VhdxError(
      "VHD_FOOTER_INVALID",
      `current size ${f.currentSize} is not a whole number of 512-byte sectors`,
      "footer",
      fileOffset + 48,
    );
  return f;
}
