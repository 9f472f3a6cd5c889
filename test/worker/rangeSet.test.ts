import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RangeSet } from "../../src/worker/storage/rangeSet";

describe("RangeSet", () => {
  it("merges touching ranges and answers intersections like a flat bitmap", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 40 })), { maxLength: 30 }),
        fc.integer({ min: 0, max: 250 }),
        fc.tuple(fc.integer({ min: 0, max: 250 }), fc.integer({ min: 1, max: 30 })),
        (adds, cut, [qs, ql]) => {
          const set = new RangeSet();
          const model = new Uint8Array(260);
          for (const [s, l] of adds) {
            set.add(s, s + l);
            model.fill(1, s, s + l);
          }
          set.truncate(cut);
          model.fill(0, cut);
          expect(set.intersects(qs, qs + ql)).toBe(model.subarray(qs, qs + ql).includes(1));
          const r = set.ranges();
          for (let i = 1; i < r.length; i++) expect(r[i][0]).toBeGreaterThan(r[i - 1][1]);
          const covered = new Uint8Array(260);
          for (const [s, e] of r) covered.fill(1, s, e);
          expect(covered).toEqual(model);
        },
      ),
    );
  });
});
