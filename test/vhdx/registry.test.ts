import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { RegionRegistry } from "../../src/vhdx/registry";
import { expectVhdxError } from "../helpers/expectError";

function layout(): RegionRegistry {
  const r = new RegionRegistry();
  r.add({ start: 0, length: MiB, kind: "header-section", name: "header section" });
  r.add({ start: MiB, length: MiB, kind: "log", name: "log" });
  r.add({ start: 2 * MiB, length: MiB, kind: "metadata", name: "metadata region" });
  r.add({ start: 3 * MiB, length: MiB, kind: "bat", name: "BAT region" });
  r.addBlock(6 * MiB, 2 * MiB, 0, false);
  r.addBlock(4 * MiB, 2 * MiB, 2, false);
  return r;
}

describe("region registry", () => {
  it("lists extents in file order and finds the holder of a byte", () => {
    const r = layout();
    expect(r.extents().map((e) => e.name)).toEqual([
      "header section",
      "log",
      "metadata region",
      "BAT region",
      "payload block (BAT entry 2)",
      "payload block (BAT entry 0)",
    ]);
    expect(r.find(5 * MiB)?.index).toBe(2);
    expect(r.find(3 * MiB + 7)?.kind).toBe("bat");
    expect(r.find(8 * MiB)).toBeUndefined();
    expect(r.end()).toBe(8 * MiB);
    expect(r.overlaps()).toEqual([]);
    expect(() => r.check()).not.toThrow();
  });

  it("reports an overlap between a block and a structure, naming both", () => {
    const r = layout();
    r.addBlock(3 * MiB, MiB, 9, false);
    const o = r.overlaps();
    expect(o.length).toBe(1);
    expect(o[0].map((e) => e.name).sort()).toEqual(["BAT region", "payload block (BAT entry 9)"]);
    expectVhdxError(() => r.check(), "REGION_OVERLAP", /BAT/, 3 * MiB);
  });

  it("reports two blocks at the same offset", () => {
    const r = layout();
    r.addBlock(6 * MiB, 2 * MiB, 5, false);
    expect(r.overlaps().length).toBe(1);
    r.removeBlock(5, false);
    expect(r.overlaps()).toEqual([]);
  });

  it("finds free gaps, aligned inward", () => {
    const r = layout();
    expect(r.freeGaps(12 * MiB + 100)).toEqual([{ start: 8 * MiB, length: 4 * MiB }]);
    r.removeBlock(2, false);
    expect(r.freeGaps(8 * MiB)).toEqual([{ start: 4 * MiB, length: 2 * MiB }]);
  });

  it("handles blocks at unaligned and very large offsets (slow sort path)", () => {
    const r = new RegionRegistry();
    r.addBlock(2 ** 52, MiB, 1, false);
    r.addBlock(5 * MiB + 1, MiB, 2, false);
    r.addBlock(5 * MiB, MiB, 3, true);
    expect(r.extents().map((e) => e.index)).toEqual([3, 2, 1]);
    expect(r.overlaps().length).toBe(1);
  });
});
