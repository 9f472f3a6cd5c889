import { describe, expect, it } from "vitest";
import { describeRange, rangeLength, rowColumns, selectionRange } from "../../src/app/lib/hexSelection";

describe("hex selection", () => {
  it("is the bytes between the anchor and the cursor, both included, whichever comes first", () => {
    expect(selectionRange(10, undefined)).toBeNull();
    expect(selectionRange(10, 4)).toEqual({ start: 4, end: 10 });
    expect(selectionRange(4, 10)).toEqual({ start: 4, end: 10 });
    expect(rangeLength({ start: 7, end: 7 })).toBe(1);
    expect(rangeLength({ start: 0, end: 2 ** 46 - 1 })).toBe(2 ** 46);
  });

  it("gives each row its own columns, so rows outside the selection see no change", () => {
    const r = { start: 0x1be, end: 0x1fd };
    expect(rowColumns(r, 0x1b0, 16)).toEqual([14, 15]);
    expect(rowColumns(r, 0x1c0, 16)).toEqual([0, 15]);
    expect(rowColumns(r, 0x1f0, 16)).toEqual([0, 13]);
    expect(rowColumns(r, 0x1a0, 16)).toBeNull();
    expect(rowColumns(r, 0x200, 16)).toBeNull();
    expect(rowColumns(null, 0, 16)).toBeNull();
    // Every byte of the range is covered exactly once across the rows.
    let covered = 0;
    for (let row = 0x100; row < 0x300; row += 16) {
      const c = rowColumns(r, row, 16);
      if (c) covered += c[1] - c[0] + 1;
    }
    expect(covered).toBe(rangeLength(r));
  });

  it("describes start, end and length in hex and decimal", () => {
    expect(describeRange({ start: 0x1be, end: 0x1fd })).toBe("0x1be–0x1fd (446–509) · 64 bytes (0x40)");
    expect(describeRange({ start: 5, end: 5 })).toBe("0x5–0x5 (5–5) · 1 byte (0x1)");
    expect(describeRange({ start: 0, end: 0xfffff })).toBe(
      "0x0–0xf_ffff (0–1048575) · 1048576 bytes (0x10_0000, 1 MiB)",
    );
  });
});
