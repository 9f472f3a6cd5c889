import { describe, expect, it } from "vitest";
import type { ExtentKind, FileMap, MapExtent } from "../../src/app/store/engineApi";
import {
  CELL_FREE,
  CELL_PAST_END,
  MIN_CELL_BYTES,
  cellRange,
  describeOwners,
  extentsIn,
  indexExtents,
  kindCode,
  layoutRegionMap,
  mapExtentEnd,
  rowsFor,
  zoomLevels,
} from "../../src/app/lib/regionLayout";

const MiB = 1024 * 1024;
const ext = (start: number, length: number, kind: ExtentKind, name: string, index?: number): MapExtent => ({
  start,
  length,
  end: start + length,
  kind,
  name,
  index,
});

// A small dynamic image as the spec lays it out (§2.1): 1 MiB header section, log at 1 MiB,
// BAT at 2 MiB, metadata at 3 MiB, one payload block at 4 MiB, and a block pointing past the end.
const map: FileMap = {
  fileSize: 8 * MiB,
  extentEnd: 11 * MiB,
  window: { start: 0, end: 11 * MiB, granularity: 1 },
  extents: [
    ext(0, MiB, "header-section", "header section"),
    ext(192 * 1024, 64 * 1024, "header-section", "region table 1"),
    ext(MiB, MiB, "log", "log"),
    ext(2 * MiB, MiB, "bat", "BAT"),
    ext(3 * MiB, MiB, "metadata", "metadata"),
    ext(4 * MiB, 2 * MiB, "payload-block", "payload block 0", 0),
    ext(5 * MiB, 2 * MiB, "payload-block", "payload block 1", 1),
    ext(9 * MiB, 2 * MiB, "payload-block", "payload block 2", 2),
  ],
  gaps: [{ start: 7 * MiB, length: MiB }],
  overlaps: [],
  pastEnd: [],
};
map.overlaps.push({ a: map.extents[5], b: map.extents[6], message: "payload block 0 overlaps payload block 1" });
map.pastEnd.push(map.extents[7]);

describe("region map layout", () => {
  it("spans to the furthest extent, past the end of the file", () => {
    expect(mapExtentEnd(map)).toBe(11 * MiB);
  });

  it("gives each 1 MiB cell its owner, free space and past-the-end", () => {
    const l = layoutRegionMap(map, MiB);
    expect(l.cellCount).toBe(11);
    expect(Array.from(l.kinds)).toEqual([
      kindCode({ kind: "header-section", name: "header section" }),
      kindCode({ kind: "log", name: "" }),
      kindCode({ kind: "bat", name: "" }),
      kindCode({ kind: "metadata", name: "" }),
      kindCode({ kind: "payload-block", name: "" }),
      kindCode({ kind: "payload-block", name: "" }),
      kindCode({ kind: "payload-block", name: "" }),
      CELL_FREE,
      CELL_PAST_END,
      CELL_PAST_END,
      CELL_PAST_END,
    ]);
  });

  it("marks the cells where two owners overlap", () => {
    const l = layoutRegionMap(map, MiB);
    expect(Array.from(l.overlap)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it("keeps the header section's name at 1 MiB and shows its 64 KiB region table at the finest zoom", () => {
    expect(layoutRegionMap(map, MiB).kinds[0]).toBe(kindCode({ kind: "header-section", name: "header section" }));
    const l = layoutRegionMap(map, MIN_CELL_BYTES);
    expect(l.kinds[3]).toBe(kindCode({ kind: "header-section", name: "region table 1" }));
    expect(l.kinds[2]).toBe(kindCode({ kind: "header-section", name: "header section" }));
    expect(l.kinds[4]).toBe(kindCode({ kind: "header-section", name: "header section" }));
  });

  it("offers zoom levels from the whole span down to 64 KiB cells", () => {
    const levels = zoomLevels(11 * MiB, 8);
    expect(levels[0]).toBe(2 * MiB); // 11 MiB in ≤ 8 cells needs 2 MiB cells
    expect(levels[levels.length - 1]).toBe(MIN_CELL_BYTES);
    for (let i = 1; i < levels.length; i++) expect(levels[i]).toBe(levels[i - 1] / 2);
    const big = zoomLevels(100 * 1024 ** 4, 4096);
    expect(big[0] * 4096).toBeGreaterThanOrEqual(100 * 1024 ** 4);
    expect(big).toContain(MiB);
  });

  it("maps cells back to file ranges and rows", () => {
    const l = layoutRegionMap(map, 2 * MiB);
    expect(cellRange(l, 5)).toEqual({ start: 10 * MiB, end: 11 * MiB });
    expect(rowsFor(11, 4)).toBe(3);
  });

  it("finds every extent in a range, long ones that start earlier included", () => {
    const idx = indexExtents(map.extents);
    expect(extentsIn(idx, 5 * MiB, 5 * MiB + 1).map((e) => e.name)).toEqual(["payload block 0", "payload block 1"]);
    expect(extentsIn(idx, 200 * 1024, 201 * 1024).map((e) => e.name)).toEqual(["header section", "region table 1"]);
    expect(extentsIn(idx, 7 * MiB, 8 * MiB)).toEqual([]);
  });

  it("describes a cell's owners: structures by name, blocks counted with their BAT entries", () => {
    const h = (n: number) => "0x" + n.toString(16);
    expect(describeOwners([map.extents[0]], h)).toBe("header section [0x0–0x100000)");
    expect(describeOwners([map.extents[5]], h)).toBe("payload block 0 [0x400000–0x600000)");
    expect(describeOwners([map.extents[2], map.extents[5], map.extents[6], map.extents[7]], h)).toBe(
      "log [0x100000–0x200000) · 3 payload blocks, BAT entries 0–2",
    );
    expect(describeOwners([], h)).toBe("");
  });
});
