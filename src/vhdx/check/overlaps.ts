import { hex } from "../errors";
import { Header } from "../header";
import { HEADER_SECTION_SIZE } from "../open";
import { BAT_REGION_GUID, METADATA_REGION_GUID, RegionTableEntry } from "../regionTable";
import { describeExtent, RegionRegistry } from "../registry";
import { CheckContext } from "./findings";

/** Registers the header section, the log and every region (§2.1: structures never overlap). */
export function registerStructures(header: Header | null, regions: readonly RegionTableEntry[]): RegionRegistry {
  const reg = new RegionRegistry();
  reg.add({ start: 0, length: HEADER_SECTION_SIZE, kind: "header-section", name: "header section" });
  if (header && header.logLength > 0)
    reg.add({ start: header.logOffset, length: header.logLength, kind: "log", name: "log" });
  for (const r of regions) {
    const kind = r.guid === BAT_REGION_GUID ? "bat" : r.guid === METADATA_REGION_GUID ? "metadata" : "region";
    const name = kind === "bat" ? "BAT region" : kind === "metadata" ? "metadata region" : `region ${r.guid}`;
    reg.add({ start: r.fileOffset, length: r.length, kind, name });
  }
  return reg;
}

/**
 * §2.1, §2.2.3.2, §2.5.1: every overlapping pair among structures and blocks. Two blocks at the
 * same place are a duplicated FileOffsetMB; anything else that collides is an overlap.
 */
export function checkOverlaps(ctx: CheckContext, reg: RegionRegistry, batOffset: number): void {
  for (const [a, b] of reg.overlaps()) {
    const blocks = a.index !== undefined && b.index !== undefined;
    if (blocks && a.start === b.start) {
      ctx.add(
        "error",
        "BAT_OFFSET_DUPLICATE",
        `BAT entries ${a.index} and ${b.index} both use FileOffsetMB ${a.start / 2 ** 20} (§2.5.1: non-zero offsets must be unique)`,
        `BAT entry ${b.index}`,
        batOffset + b.index! * 8,
        8,
      );
      continue;
    }
    const overlapStart = Math.max(a.start, b.start);
    const overlapEnd = Math.min(a.start + a.length, b.start + b.length);
    ctx.add(
      "error",
      "REGION_OVERLAP",
      `${describeExtent(a)} overlaps ${describeExtent(b)} over [${hex(overlapStart)}, ${hex(overlapEnd)})`,
      b.name,
      overlapStart,
      overlapEnd - overlapStart,
    );
  }
}
