/** The plain-JSON view of a VHD: what `vhdx info` prints and the editor's structure views show. */
import type { Warning } from "../vhdx/open";
import { vhdTimeToIso } from "./bytes";
import { PARENT_LOCATORS_AT } from "./dynamicHeader";
import type { Footer } from "./footer";
import { chsBytes } from "./geometry";
import type { VhdImage } from "./image";
import { decodeLocatorData, PARENT_LOCATOR_ENTRY_SIZE, PLATFORM_NONE } from "./parentLocator";

export interface VhdFooterInfo extends Omit<Footer, "diskGeometry"> {
  offset: number;
  timeStampIso: string;
  geometry: { cylinders: number; heads: number; sectorsPerTrack: number; bytes: number };
}

export interface VhdLocatorInfo {
  index: number;
  /** File offset of the 24-byte entry. */
  offset: number;
  platformCode: string;
  platformDataSpace: number;
  platformDataLength: number;
  platformDataOffset: number;
  /** The decoded path or URL; null for an alias blob or data that could not be read. */
  value: string | null;
}

export interface VhdInfo {
  format: "vhd";
  diskType: "fixed" | "dynamic" | "differencing";
  virtualSize: number;
  fileSize: number;
  /** 0 for a fixed disk. */
  blockSize: number;
  footer: VhdFooterInfo;
  /** The copy at offset 0 of a dynamic or differencing disk; `matches` when it equals the footer. */
  footerCopy: (VhdFooterInfo & { matches: boolean }) | null;
  dynamicHeader: {
    offset: number;
    tableOffset: number;
    headerVersion: number;
    maxTableEntries: number;
    blockSize: number;
    checksum: number;
    parentUniqueId: string;
    parentTimeStamp: number;
    parentTimeStampIso: string;
    parentUnicodeName: string;
    locators: VhdLocatorInfo[];
  } | null;
  bat: { offset: number; entries: number; allocated: number; sectorBitmapSize: number } | null;
  warnings: Warning[];
}

function footerInfo(f: Footer, offset: number): VhdFooterInfo {
  const { diskGeometry, ...rest } = f;
  return {
    ...rest,
    offset,
    timeStampIso: vhdTimeToIso(f.timeStamp),
    geometry: { ...diskGeometry, bytes: chsBytes(diskGeometry) },
  };
}

export async function vhdInfo(img: VhdImage): Promise<VhdInfo> {
  const h = img.dynamicHeader;
  const ho = img.footer.dataOffset;
  const locators: VhdLocatorInfo[] = [];
  if (h)
    for (let i = 0; i < h.parentLocatorEntries.length; i++) {
      const e = h.parentLocatorEntries[i];
      if (e.platformCode === PLATFORM_NONE) continue;
      const readable =
        e.platformDataLength <= 65536 &&
        e.platformDataOffset >= 0 &&
        e.platformDataOffset + e.platformDataLength <= img.fileSize;
      locators.push({
        index: i,
        offset: ho + PARENT_LOCATORS_AT + i * PARENT_LOCATOR_ENTRY_SIZE,
        platformCode: e.platformCode,
        platformDataSpace: e.platformDataSpace,
        platformDataLength: e.platformDataLength,
        platformDataOffset: e.platformDataOffset,
        value: readable
          ? decodeLocatorData(e.platformCode, await img.readFile(e.platformDataOffset, e.platformDataLength))
          : null,
      });
    }
  let allocated = 0;
  if (img.bat) for (let i = 0; i < img.bat.length; i++) if (img.bat.blockOffset(i) >= 0) allocated++;
  const copy = img.footerCopy;
  return {
    format: "vhd",
    diskType: img.diskType,
    virtualSize: img.virtualSize,
    fileSize: img.fileSize,
    blockSize: img.blockSize,
    footer: footerInfo(img.footer, img.footerOffset),
    footerCopy: copy ? { ...footerInfo(copy, 0), matches: JSON.stringify(copy) === JSON.stringify(img.footer) } : null,
    dynamicHeader: h
      ? {
          offset: ho,
          tableOffset: h.tableOffset,
          headerVersion: h.headerVersion,
          maxTableEntries: h.maxTableEntries,
          blockSize: h.blockSize,
          checksum: h.checksum,
          parentUniqueId: h.parentUniqueId,
          parentTimeStamp: h.parentTimeStamp,
          parentTimeStampIso: vhdTimeToIso(h.parentTimeStamp),
          parentUnicodeName: h.parentUnicodeName,
          locators,
        }
      : null,
    bat:
      h && img.bat
        ? { offset: h.tableOffset, entries: img.bat.length, allocated, sectorBitmapSize: img.bitmapSize }
        : null,
    warnings: img.warnings,
  };
}
