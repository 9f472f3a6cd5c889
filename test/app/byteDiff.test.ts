import { describe, expect, it } from "vitest";
import { bytesText, diffBytes } from "../../src/app/lib/byteDiff";

describe("replay preview diff", () => {
  it("counts changed bytes and starts the window near the first change", () => {
    const before = new Uint8Array(4096);
    const after = before.slice();
    after[1000] = 0x06;
    after[1001] = 0x50;
    after[4000] = 1;
    const d = diffBytes(before, after, 16);
    expect(d).toMatchObject({ changed: 3, compared: 4096, firstChange: 1000 });
    expect(d.cells).toHaveLength(16);
    const changedCells = d.cells.filter((c) => c.changed).map((c) => c.after);
    expect(changedCells).toEqual(["06", "50"]);
    expect(d.cells[0].before).toBe("00");
  });
  it("reports no change for equal bytes and keeps the window at the start", () => {
    const a = Uint8Array.of(1, 2, 3);
    const d = diffBytes(a, a.slice());
    expect(d).toMatchObject({ changed: 0, firstChange: -1 });
    expect(d.cells.map((c) => c.before)).toEqual(["01", "02", "03"]);
  });
  it("keeps a full window when the change is at the very end", () => {
    const before = new Uint8Array(64);
    const after = before.slice();
    after[63] = 0xff;
    const d = diffBytes(before, after, 16);
    expect(d.cells).toHaveLength(16);
    expect(d.cells[d.cells.length - 1]).toEqual({ before: "00", after: "ff", changed: true });
  });
  it("prints descriptor bytes", () => {
    expect(bytesText(Uint8Array.of(0, 0xab))).toBe("00 ab");
    expect(bytesText(null)).toBe("—");
  });
});
