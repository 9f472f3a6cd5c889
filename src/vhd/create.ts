/**
 * Writing a VHD from any virtual disk (a VHDX, a chain, a raw file): fixed (the data, then the
 * footer) or dynamic (footer copy, dynamic disk header, BAT, blocks with their sector bitmaps,
 * footer). Zero runs are never read nor written: a dynamic disk leaves those blocks out of the
 * BAT, a fixed one leaves holes. The footers and header are written last.
 */
import { alignUp, GiB, isAllZero } from "../vhdx/bytes";
import { PIECE, serialWrites, type StreamOptions } from "../vhdx/convert";
import { hex, VhdxError } from "../vhdx/errors";
import { newGuid } from "../vhdx/guid";
import type { VirtualDisk } from "../vhdx/image";
import { discardContents, type RandomAccess } from "../vhdx/io";
import { pumpPieces } from "../vhdx/pump";
import { writeNonZeroRuns } from "../vhdx/sparse";
import { BAT_ENTRY_UNUSED, serializeBat, VhdBat } from "./bat";
import { vhdTimeNow } from "./bytes";
import {
  DEFAULT_VHD_BLOCK_SIZE,
  DYNAMIC_HEADER_COOKIE,
  HEADER_VERSION,
  sectorBitmapSize,
  serializeDynamicHeader,
} from "./dynamicHeader";
import {
  DISK_TYPE_DYNAMIC,
  DISK_TYPE_FIXED,
  FEATURE_RESERVED,
  FILE_FORMAT_VERSION,
  FOOTER_COOKIE,
  FOOTER_SIZE,
  serializeFooter,
  type Footer,
} from "./footer";
import { chsForSize } from "./geometry";

/** The format's limit: 2040 GiB, what a dynamic disk's geometry and tools agree on. */
export const VHD_MAX_SIZE = 2040 * GiB;
/** What this program writes as the footer's creator application and version. */
export const VHD_CREATOR_APPLICATION = "win ";
export const VHD_CREATOR_VERSION = 0x00010000;

export interface ToVhdOptions extends StreamOptions {
  subformat: "fixed" | "dynamic";
  /** Dynamic only: a power of two, default 2 MiB. */
  blockSize?: number;
  uniqueId?: string;
}

export interface ToVhdResult {
  fileSize: number;
  virtualSize: number;
  allocatedBlocks: number;
  totalBlocks: number;
}

/** Refuses a size a VHD cannot hold, before anything is written. */
export function checkVhdSize(size: number): void {
  if (size > VHD_MAX_SIZE)
    throw new VhdxError(
      "VHD_TOO_LARGE",
      `a VHD holds at most 2040 GiB (${VHD_MAX_SIZE} bytes); this disk has ${size} bytes (${hex(size)})`,
      "footer",
    );
}

export function newFooter(size: number, diskType: number, dataOffset: number, uniqueId: string): Footer {
  return {
    cookie: FOOTER_COOKIE,
    features: FEATURE_RESERVED,
    fileFormatVersion: FILE_FORMAT_VERSION,
    dataOffset,
    timeStamp: vhdTimeNow(),
    creatorApplication: VHD_CREATOR_APPLICATION,
    creatorVersion: VHD_CREATOR_VERSION,
    creatorHostOs: "Wi2k",
    originalSize: size,
    currentSize: size,
    diskGeometry: chsForSize(size),
    diskType,
    checksum: 0,
    uniqueId,
    savedState: 0,
  };
}

export async function convertToVhd(source: VirtualDisk, out: RandomAccess, o: ToVhdOptions): Promise<ToVhdResult> {
  const size = alignUp(source.virtualSize, 512);
  checkVhdSize(size);
  const total = source.virtualSize;
  const uniqueId = o.uniqueId ?? newGuid();
  const serial = serialWrites(out);
  const sync = o.sync ?? true;
  const progress = {
    signal: o.signal,
    what: "convert",
    skipped: (end: number) => o.onProgress?.({ done: end, total }),
  };
  await discardContents(out);
  if (o.subformat === "fixed") {
    await out.truncate(size + FOOTER_SIZE);
    await pumpPieces(
      source,
      total,
      PIECE,
      (at, bytes) => {
        o.onProgress?.({ done: at + bytes.length, total });
        return writeNonZeroRuns(serial, at, bytes);
      },
      progress,
    );
    if (sync) await out.flush();
    await out.write(size, serializeFooter(newFooter(size, DISK_TYPE_FIXED, -1, uniqueId)));
    if (sync) await out.flush();
    o.onProgress?.({ done: total, total });
    return { fileSize: size + FOOTER_SIZE, virtualSize: size, allocatedBlocks: 0, totalBlocks: 0 };
  }
  const bs = o.blockSize ?? DEFAULT_VHD_BLOCK_SIZE;
  if (bs < 512 * 8 || bs > 256 * 1024 * 1024 || (bs & (bs - 1)) !== 0)
    throw new VhdxError(
      "INVALID_ARGUMENT",
      `a VHD block size is a power of two from 4 KiB to 256 MiB, not ${bs}`,
      "dynamic disk header",
    );
  const entries = Math.ceil(size / bs);
  const batOffset = FOOTER_SIZE + 1024;
  const batBytes = alignUp(entries * 4, 512);
  const bms = sectorBitmapSize(bs);
  const bitmap = new Uint8Array(bms).fill(0xff);
  // Each block's data starts on a 4 KiB boundary: its sector bitmap sits just before it.
  let fileEnd = alignUp(batOffset + batBytes + bms, 4096) - bms;
  const bat = new VhdBat(new Uint32Array(entries).fill(BAT_ENTRY_UNUSED));
  let allocated = 0;
  let block = -1;
  let dataAt = -1;
  await pumpPieces(
    source,
    total,
    Math.min(PIECE, bs),
    (at, bytes) => {
      o.onProgress?.({ done: at + bytes.length, total });
      if (Math.floor(at / bs) !== block) {
        block = Math.floor(at / bs);
        dataAt = -1;
      }
      if (isAllZero(bytes)) return;
      const writes: Promise<unknown>[] = [];
      if (dataAt < 0) {
        bat.entries[block] = fileEnd / 512;
        writes.push(serial.write(fileEnd, bitmap));
        dataAt = fileEnd + bms;
        fileEnd += bms + bs;
        allocated++;
      }
      writes.push(writeNonZeroRuns(serial, dataAt + (at - block * bs), bytes));
      return Promise.all(writes);
    },
    progress,
  );
  if ((await out.size()) < fileEnd) await out.truncate(fileEnd);
  await out.write(batOffset, serializeBat(bat));
  if (sync) await out.flush();
  const footer = serializeFooter(newFooter(size, DISK_TYPE_DYNAMIC, FOOTER_SIZE, uniqueId));
  const header = serializeDynamicHeader({
    cookie: DYNAMIC_HEADER_COOKIE,
    dataOffset: -1,
    tableOffset: batOffset,
    headerVersion: HEADER_VERSION,
    maxTableEntries: entries,
    blockSize: bs,
    checksum: 0,
    parentUniqueId: "00000000-0000-0000-0000-000000000000",
    parentTimeStamp: 0,
    parentUnicodeName: "",
    parentLocatorEntries: [],
  });
  await out.write(fileEnd, footer);
  await out.write(FOOTER_SIZE, header);
  await out.write(0, footer);
  if (sync) await out.flush();
  o.onProgress?.({ done: total, total });
  return { fileSize: fileEnd + FOOTER_SIZE, virtualSize: size, allocatedBlocks: allocated, totalBlocks: entries };
}
