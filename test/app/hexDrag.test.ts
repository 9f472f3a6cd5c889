/** Auto-scroll speed while a drag is held past the hex grid's edge. */
import { describe, expect, it } from "vitest";
import { ROW_H, autoScrollRate } from "../../src/app/views/useHexDrag";

describe("auto-scroll rate", () => {
  it("starts slow at the edge and grows with the distance past it, up to a cap", () => {
    expect(autoScrollRate(0)).toBe(12);
    let prev = autoScrollRate(0);
    for (let px = 1; px <= 2000; px++) {
      const r = autoScrollRate(px);
      expect(r).toBeGreaterThanOrEqual(prev);
      prev = r;
    }
    // Ten rows away it scrolls a screenful of rows in a fraction of a second.
    expect(autoScrollRate(10 * ROW_H)).toBe(12 * 11 * 11);
    expect(autoScrollRate(1e6)).toBe(200_000);
  });
});
