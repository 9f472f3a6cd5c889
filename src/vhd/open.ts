/**
 * Opening a VHD: the footer at the end of the file (or, when that one is damaged, the copy at
 * offset 0 of a dynamic disk), then the dynamic disk header and the BAT. Reads only structures.
 */
import { hex, VhdxError } from "../vhdx/errors";
import type { RandomAccess } from "../vhdx/io";
import type { Warning } from "../vhdx/open";
import { checkBatPlacement, parseBat, type VhdBat } from "./bat";
import {
  DYNAMIC_HEADER_SIZE,
  PARENT_LOCATORS_AT,
  readDynamicHeader,
  sectorBitmapSize,
  type DynamicHeader,
} from "./dynamicHeader";
import { FOOTER_SIZE, hasFooterCookie, readFooter, type Footer } from "./footer";
import { VhdImage } from "./image";
import { checkLocatorData, PARENT_LOCATOR_ENTRY_SIZE } from "./parentLocator";

export type DiskFormat = "vhdx" | "vhd" | "raw";

/** What a file holds, by its signatures: "vhdxfile" at 0, or the "conectix" cookie at the end or at 0. */
export async function detectFormat(io: RandomAccess): Promise<DiskFormat> {
  const size = await io.size();
  if (size >= 8 && new TextDecoder().decode(await io.read(0, 8)) === "vhdxfile") return "vhdx";
  if (size >= FOOTER_SIZE) {
    if (hasFooterCookie(await io.read(size - FOOTER_SIZE, 8))) return "vhd";
    if (hasFooterCookie(await io.read(0, 8))) return "vhd";
  }
  return "raw";
}

async function readBothFooters(
  io: RandomAccess,
  size: number,
  warnings: Warning[],
): Promise<{ footer: Footer; at: number; copy: Footer | null }> {
  if (size < FOOTER_SIZE)
    throw new VhdxError("NOT_VHD", `a VHD is at least 512 bytes; this file has ${size}`, "footer", 0);
  const endAt = size - FOOTER_SIZE;
  const head = await io.read(0, FOOTER_SIZE);
  let copy: Footer | null = null;
  let copyError: VhdxError | null = null;
  if (endAt > 0 && hasFooterCookie(head)) {
    try {
      copy = readFooter(head, 0);
    } catch (e) {
      if (!(e instanceof VhdxError)) throw e;
      copyError = e;
    }
  }
  try {
    const footer = readFooter(await io.read(endAt, FOOTER_SIZE), endAt);
    if (copyError) warnings.push({ ...copyError, message: `footer copy: ${copyError.message}` });
    return { footer, at: endAt, copy: copy && copy.diskType !== 2 ? copy : null };
  } catch (e) {
    // A dynamic disk keeps a copy of its footer at offset 0 for exactly this case.
    if (!(e instanceof VhdxError) || !copy || copy.diskType === 2) throw e;
    warnings.push({
      code: e.code,
      message: `${e.message}; the footer copy at offset 0 is used`,
      structure: "footer",
      offset: e.offset,
    });
    return { footer: copy, at: 0, copy };
  }
}

/** Opens a VHD read-only: the footer, and for dynamic and differencing disks the header and BAT. */
export async function openVhd(io: RandomAccess): Promise<VhdImage> {
  const warnings: Warning[] = [];
  const size = await io.size();
  const { footer, at, copy } = await readBothFooters(io, size, warnings);
  if (footer.diskType === 2) {
    if (footer.currentSize > size - FOOTER_SIZE)
      throw new VhdxError(
        "VHD_FOOTER_INVALID",
        `a fixed disk of ${footer.currentSize} bytes needs a file of ${footer.currentSize + FOOTER_SIZE} bytes; this one has ${size}`,
        "footer",
        at + 48,
      );
    if (footer.currentSize < size - FOOTER_SIZE)
      warnings.push({
        code: "VHD_FOOTER_INVALID",
        message: `the file holds ${size - FOOTER_SIZE - footer.currentSize} bytes past the disk's ${footer.currentSize}, before the footer`,
        structure: "footer",
        offset: at + 48,
      });
    return new VhdImage(io, size, footer, at, null, null, null, warnings);
  }
  const ho = footer.dataOffset;
  if (ho < FOOTER_SIZE || ho + DYNAMIC_HEADER_SIZE > size)
    throw new VhdxError(
      "VHD_FOOTER_INVALID",
      `the dynamic disk header's offset ${ho < 0 ? "is unset" : hex(ho)} does not lie inside the file (${hex(size)} bytes)`,
      "footer",
      at + 16,
    );
  if (copy === null && at !== 0)
    warnings.push({
      code: "VHD_FOOTER_INVALID",
      message: "no valid footer copy at offset 0",
      structure: "footer",
      offset: 0,
    });
  const header = readDynamicHeader(await io.read(ho, DYNAMIC_HEADER_SIZE), ho);
  const used = checkBatPlacement(
    header.tableOffset,
    header.maxTableEntries,
    header.blockSize,
    footer.currentSize,
    size,
    ho,
  );
  const bat = parseBat(await io.read(header.tableOffset, used * 4), used);
  checkBlocks(bat, header, size, warnings);
  if (footer.diskType === 4) checkLocators(header, ho, size, warnings);
  return new VhdImage(io, size, footer, at, copy, header, bat, warnings);
}

/** Blocks past the end of the file: one warning (reads of them fail with BAT_ENTRY_BEYOND_EOF). */
function checkBlocks(bat: VhdBat, h: DynamicHeader, size: number, warnings: Warning[]): void {
  const span = sectorBitmapSize(h.blockSize) + h.blockSize;
  let first = -1;
  let count = 0;
  for (let i = 0; i < bat.length; i++) {
    const o = bat.blockOffset(i);
    if (o >= 0 && o + span > size) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count > 0)
    warnings.push({
      code: "BAT_ENTRY_BEYOND_EOF",
      message: `BAT entry ${first} points past the end of the file (${hex(bat.blockOffset(first) + span)} > ${hex(size)})${count > 1 ? ` (and ${count - 1} more)` : ""}`,
      structure: "BAT",
      offset: h.tableOffset + first * 4,
    });
}

function checkLocators(h: DynamicHeader, ho: number, size: number, warnings: Warning[]): void {
  h.parentLocatorEntries.forEach((e, i) => {
    try {
      checkLocatorData(e, i, size, ho + PARENT_LOCATORS_AT + i * PARENT_LOCATOR_ENTRY_SIZE);
    } catch (err) {
      if (!(err instanceof VhdxError)) throw err;
      warnings.push({ code: err.code, message: err.message, structure: err.structure, offset: err.offset });
    }
  });
}
