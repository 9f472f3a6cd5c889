import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  COALESCE_MS,
  EMPTY_STAGE,
  overlay,
  redo,
  stageWrite,
  stagedByteCount,
  toPatch,
  undo,
  type StagedWrite,
} from "../../src/app/lib/editStage";

const typed = (offset: number, bytes: number[], time: number, space: "virtual" | "file" = "virtual"): StagedWrite => ({
  space,
  offset,
  data: Uint8Array.from(bytes),
  kind: "type",
  time,
});

describe("edit stage", () => {
  it("coalesces a run of typing into one undo step", () => {
    let s = EMPTY_STAGE;
    s = stageWrite(s, typed(100, [0xa0], 0));
    s = stageWrite(s, typed(100, [0xab], 100)); // second nibble of the same byte
    s = stageWrite(s, typed(101, [0xc0], 200));
    expect(s.writes).toHaveLength(1);
    expect(Array.from(s.writes[0].data)).toEqual([0xab, 0xc0]);
    s = undo(s);
    expect(s.writes).toHaveLength(0);
  });
  it("starts a new step after a pause, a jump, a paste or a space change", () => {
    let s = stageWrite(EMPTY_STAGE, typed(0, [1], 0));
    s = stageWrite(s, typed(1, [2], COALESCE_MS + 1));
    expect(s.writes).toHaveLength(2);
    s = stageWrite(s, typed(50, [3], COALESCE_MS + 2));
    expect(s.writes).toHaveLength(3);
    s = stageWrite(s, { ...typed(51, [4], COALESCE_MS + 3), kind: "paste" });
    expect(s.writes).toHaveLength(4);
    s = stageWrite(s, typed(52, [5], COALESCE_MS + 4, "file"));
    expect(s.writes).toHaveLength(5);
  });
  it("undoes and redoes in order; a new write clears redo", () => {
    let s = stageWrite(EMPTY_STAGE, typed(0, [1], 0));
    s = stageWrite(s, typed(10, [2], 5000));
    s = undo(s);
    expect(s.writes.map((w) => w.offset)).toEqual([0]);
    s = redo(s);
    expect(s.writes.map((w) => w.offset)).toEqual([0, 10]);
    s = undo(undo(s));
    expect(undo(s)).toBe(s);
    s = redo(s);
    s = stageWrite(s, typed(20, [3], 9000));
    expect(s.redo).toHaveLength(0);
    expect(redo(s)).toBe(s);
  });
  it("lays staged bytes over engine bytes with a staged mask", () => {
    let s = stageWrite(EMPTY_STAGE, typed(14, [0xaa, 0xbb, 0xcc, 0xdd], 0));
    s = stageWrite(s, typed(2, [0x11], 9999, "file"));
    const base = new Uint8Array(8).fill(0x55); // bytes 10..17
    const { bytes, staged } = overlay(s, "virtual", 10, base);
    expect(Array.from(bytes)).toEqual([0x55, 0x55, 0x55, 0x55, 0xaa, 0xbb, 0xcc, 0xdd]);
    expect(Array.from(staged)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(base)).toEqual(new Array(8).fill(0x55)); // base untouched
  });
  it("flattens to disjoint sorted runs, later writes winning", () => {
    let s = stageWrite(EMPTY_STAGE, { ...typed(10, [1, 2, 3, 4], 0), kind: "paste" });
    s = stageWrite(s, { ...typed(12, [9, 9, 9], 1), kind: "paste" });
    s = stageWrite(s, { ...typed(2, [7], 2), kind: "paste" });
    s = stageWrite(s, { ...typed(0, [8], 3, "file"), kind: "paste" });
    const p = toPatch(s);
    expect(p.map((w) => [w.space, w.offset, Array.from(w.data)])).toEqual([
      ["virtual", 2, [7]],
      ["virtual", 10, [1, 2, 9, 9, 9]],
      ["file", 0, [8]],
    ]);
    expect(stagedByteCount(s)).toBe(7);
  });
});

describe("toPatch against a byte-by-byte model", () => {
  it("flattens any sequence of writes as laying them one by one over a byte map does", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            space: fc.constantFrom("virtual" as const, "file" as const),
            offset: fc.nat(60),
            data: fc.uint8Array({ minLength: 0, maxLength: 12 }),
          }),
          { maxLength: 12 },
        ),
        (ws) => {
          const stage = { writes: ws.map((w) => ({ ...w, kind: "paste" as const, time: 0 })), redo: [] };
          const model: Record<string, Map<number, number>> = { virtual: new Map(), file: new Map() };
          for (const w of ws) w.data.forEach((b, i) => model[w.space].set(w.offset + i, b));
          const got: Record<string, Map<number, number>> = { virtual: new Map(), file: new Map() };
          const patch = toPatch(stage);
          for (const p of patch) p.data.forEach((b, i) => got[p.space].set(p.offset + i, b));
          expect(got.virtual).toEqual(model.virtual);
          expect(got.file).toEqual(model.file);
          // Runs are sorted, disjoint and never touching within a space.
          for (let i = 1; i < patch.length; i++) {
            if (patch[i].space !== patch[i - 1].space) continue;
            expect(patch[i].offset).toBeGreaterThan(patch[i - 1].offset + patch[i - 1].data.length);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
