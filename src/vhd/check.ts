/**
 * `vhdx check` on a VHD: reporting only. What open refuses is an error finding; what it tolerates
 * (a damaged footer copy, blocks past the end, unreadable locators) a warning; then the layout:
 * blocks that overlap each other, the structures or the footer, and the footer's own fields.
 */
import { hex, VhdxError } from "../vhdx/errors";
import type { RandomAccess } from "../vhdx/io";
import { DYNAMIC_HEADER_SIZE } from "./dynamicHeader";
import { FEATURE_RESERVED, FOOTER_SIZE } from "./footer";
import { chsBytes, chsForSize } from "./geometry";
import { openVhd } from "./open";

export interface VhdFinding {
  severity: "error" | "warning" | "info";
  code: string;
  message: string;
  structure: string;
  offset: number;
  length: number;
}

export interface VhdCheckReport {
  ok: boolean;
  findings: VhdFinding[];
}

/** At most this many overlap findings are listed. */
const MAX_LISTED = 50;

export async function checkVhd(io: RandomAccess): Promise<VhdCheckReport> {
  const findings: VhdFinding[] = [];
  const add = (f: VhdFinding) => findings.push(f);
  let img;
  try {
    img = await openVhd(io);
  } catch (e) {
    if (!(e instanceof VhdxError)) throw e;
    add({
      severity: "error",
      code: e.code,
      message: e.message,
      structure: e.structure,
      offset: e.offset ?? 0,
      length: 0,
    });
    return { ok: false, findings };
  }
  for (const w of img.warnings)
    add({
      severity: "warning",
      code: w.code,
      message: w.message,
      structure: w.structure,
      offset: w.offset ?? 0,
      length: 0,
    });
  const f = img.footer;
  const fo = img.footerOffset;
  if ((f.features & FEATURE_RESERVED) === 0)
    add({
      severity: "warning",
      code: "VHD_FOOTER_INVALID",
      message: "the reserved features bit (0x2) is not set",
      structure: "footer",
      offset: fo + 8,
      length: 4,
    });
  if (img.diskType === "fixed" && f.dataOffset !== -1)
    add({
      severity: "warning",
      code: "VHD_FOOTER_INVALID",
      message: `a fixed disk's data offset should be all ones, not ${hex(f.dataOffset)}`,
      structure: "footer",
      offset: fo + 16,
      length: 8,
    });
  const chs = chsBytes(f.diskGeometry);
  const want = chsForSize(f.currentSize);
  if (chs !== chsBytes(want))
    add({
      severity: "info",
      code: "VHD_GEOMETRY",
      message: `disk geometry ${f.diskGeometry.cylinders}/${f.diskGeometry.heads}/${f.diskGeometry.sectorsPerTrack} addresses ${chs} bytes; the specification's geometry for ${f.currentSize} bytes is ${want.cylinders}/${want.heads}/${want.sectorsPerTrack}`,
      structure: "footer",
      offset: fo + 56,
      length: 4,
    });
  if (img.footerCopy && JSON.stringify(img.footerCopy) !== JSON.stringify(f))
    add({
      severity: "warning",
      code: "VHD_FOOTER_INVALID",
      message: "the footer copy at offset 0 differs from the footer at the end",
      structure: "footer",
      offset: 0,
      length: FOOTER_SIZE,
    });
  const h = img.dynamicHeader;
  if (h && img.bat) {
    // Every range the file holds: structures first, then each block (bitmap and data).
    const ranges: { start: number; end: number; name: string; entry: number }[] = [
      { start: 0, end: FOOTER_SIZE, name: "footer copy", entry: -1 },
      { start: f.dataOffset, end: f.dataOffset + DYNAMIC_HEADER_SIZE, name: "dynamic disk header", entry: -1 },
      {
        start: h.tableOffset,
        end: h.tableOffset + Math.ceil((img.bat.length * 4) / 512) * 512,
        name: "BAT",
        entry: -1,
      },
      { start: img.fileSize - FOOTER_SIZE, end: img.fileSize, name: "footer", entry: -1 },
    ];
    const span = img.bitmapSize + h.blockSize;
    for (let i = 0; i < img.bat.length; i++) {
      const at = img.bat.blockOffset(i);
      if (at >= 0) ranges.push({ start: at, end: at + span, name: `block ${i}`, entry: i });
    }
    ranges.sort((a, b) => a.start - b.start || a.end - b.end);
    let listed = 0;
    let reach = ranges[0];
    for (let k = 1; k < ranges.length; k++) {
      const r = ranges[k];
      if (r.start < reach.end) {
        if (listed++ < MAX_LISTED) {
          const entry = r.entry >= 0 ? r : reach;
          add({
            severity: "error",
            code: "VHD_BLOCK_OVERLAP",
            message: `${r.name} [${hex(r.start)}, ${hex(r.end)}) overlaps ${reach.name} [${hex(reach.start)}, ${hex(reach.end)})`,
            structure: entry.entry >= 0 ? "BAT" : r.name,
            offset: entry.entry >= 0 ? h.tableOffset + entry.entry * 4 : r.start,
            length: entry.entry >= 0 ? 4 : r.end - r.start,
          });
        }
      }
      if (r.end > reach.end) reach = r;
    }
    if (listed > MAX_LISTED)
      add({
        severity: "error",
        code: "VHD_BLOCK_OVERLAP",
        message: `and ${listed - MAX_LISTED} more overlaps`,
        structure: "BAT",
        offset: h.tableOffset,
        length: 0,
      });
  }
  // Damage open tolerates in a way no read survives is an error; the rest stays a warning.
  for (const x of findings) if (x.code === "BAT_ENTRY_BEYOND_EOF") x.severity = "error";
  return { ok: !findings.some((x) => x.severity === "error"), findings };
}
