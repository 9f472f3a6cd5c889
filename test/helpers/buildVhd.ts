/**
 * Hand-built VHDs for tests, laid out field by field as the format's documents give them (QEMU
 * makes no differencing VHDs): a footer copy, the dynamic disk header, the BAT, blocks, the footer.
 */
import { writeFileSync } from "node:fs";
import { serializeBat, VhdBat, BAT_ENTRY_UNUSED } from "../../src/vhd/bat";
import { vhdTimeNow } from "../../src/vhd/bytes";
import { serializeDynamicHeader, sectorBitmapSize } from "../../src/vhd/dynamicHeader";
import { FEATURE_RESERVED, FILE_FORMAT_VERSION, serializeFooter, type Footer } from "../../src/vhd/footer";
import { chsForSize } from "../../src/vhd/geometry";
import { encodeUtf16le, type ParentLocatorEntry } from "../../src/vhd/parentLocator";

export interface BuiltBlock {
  /** Which block of the disk. */
  block: number;
  /** The sector bitmap's bits, sector by sector (true: in this file). */
  present: (sector: number) => boolean;
  /** The block's data as stored (blockSize bytes). */
  data: Uint8Array;
}

export interface BuildVhdOptions {
  size: number;
  blockSize?: number;
  uniqueId: string;
  /** Differencing when given. */
  parent?: { uniqueId: string; timeStamp: number; name: string; locators: { code: string; path: string }[] };
  blocks?: BuiltBlock[];
  timeStamp?: number;
}

export function footerFor(o: {
  size: number;
  type: number;
  dataOffset: number;
  uniqueId: string;
  timeStamp?: number;
}): Footer {
  return {
    cookie: "conectix",
    features: FEATURE_RESERVED,
    fileFormatVersion: FILE_FORMAT_VERSION,
    dataOffset: o.dataOffset,
    timeStamp: o.timeStamp ?? vhdTimeNow(),
    creatorApplication: "test",
    creatorVersion: 0x00010000,
    creatorHostOs: "Wi2k",
    originalSize: o.size,
    currentSize: o.size,
    diskGeometry: chsForSize(o.size),
    diskType: o.type,
    checksum: 0,
    uniqueId: o.uniqueId,
    savedState: 0,
  };
}

export function buildDynamicVhd(o: BuildVhdOptions): Uint8Array {
  const bs = o.blockSize ?? 2 * 1024 * 1024;
  const entries = Math.ceil(o.size / bs);
  const batAt = 1536;
  const batBytes = Math.ceil((entries * 4) / 512) * 512;
  let pos = batAt + batBytes;
  const locators: ParentLocatorEntry[] = [];
  const locatorData: { at: number; bytes: Uint8Array }[] = [];
  for (const l of o.parent?.locators ?? []) {
    const bytes = encodeUtf16le(l.path);
    const space = Math.ceil(bytes.length / 512) * 512;
    locators.push({
      platformCode: l.code,
      platformDataSpace: space,
      platformDataLength: bytes.length,
      reserved: 0,
      platformDataOffset: pos,
    });
    locatorData.push({ at: pos, bytes });
    pos += space;
  }
  const bat = new VhdBat(new Uint32Array(entries).fill(BAT_ENTRY_UNUSED));
  const bms = sectorBitmapSize(bs);
  const blockData: { at: number; bytes: Uint8Array }[] = [];
  for (const b of o.blocks ?? []) {
    bat.entries[b.block] = pos / 512;
    const bitmap = new Uint8Array(bms);
    for (let s = 0; s < bs / 512; s++) if (b.present(s)) bitmap[s >>> 3] |= 0x80 >>> (s & 7);
    blockData.push({ at: pos, bytes: bitmap }, { at: pos + bms, bytes: b.data });
    pos += bms + bs;
  }
  const type = o.parent ? 4 : 3;
  const footer = serializeFooter(
    footerFor({ size: o.size, type, dataOffset: 512, uniqueId: o.uniqueId, timeStamp: o.timeStamp }),
  );
  const header = serializeDynamicHeader({
    cookie: "cxsparse",
    dataOffset: -1,
    tableOffset: batAt,
    headerVersion: 0x00010000,
    maxTableEntries: entries,
    blockSize: bs,
    checksum: 0,
    parentUniqueId: o.parent?.uniqueId ?? "00000000-0000-0000-0000-000000000000",
    parentTimeStamp: o.parent?.timeStamp ?? 0,
    parentUnicodeName: o.parent?.name ?? "",
    parentLocatorEntries: locators,
  });
  const file = new Uint8Array(pos + 512);
  file.set(footer, 0);
  file.set(header, 512);
  file.set(serializeBat(bat), batAt);
  for (const d of [...locatorData, ...blockData]) file.set(d.bytes, d.at);
  file.set(footer, pos);
  return file;
}

export function writeVhd(path: string, bytes: Uint8Array): string {
  writeFileSync(path, bytes);
  return path;
}
