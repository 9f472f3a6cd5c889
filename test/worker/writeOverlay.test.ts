import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { WriteOverlay } from "../../src/worker/storage/writeOverlay";

describe("WriteOverlay", () => {
  it("merges overlapping and adjacent writes; later writes win", () => {
    const o = new WriteOverlay();
    o.add(10, new Uint8Array([1, 1, 1, 1]));
    o.add(20, new Uint8Array([2, 2]));
    o.add(14, new Uint8Array([3])); // adjacent to the first extent
    o.add(12, new Uint8Array([4, 4]));
    expect(o.ranges()).toEqual([
      { start: 10, length: 5 },
      { start: 20, length: 2 },
    ]);
    const out = new Uint8Array(14).fill(9);
    o.applyTo(out, 9);
    expect([...out]).toEqual([9, 1, 1, 4, 4, 3, 9, 9, 9, 9, 9, 2, 2, 9]);
    expect(o.bytes).toBe(7);
  });

  it("agrees with a flat byte model under random writes, truncates and reads", () => {
    const SIZE = 300;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant("w" as const),
              at: fc.integer({ min: 0, max: SIZE - 40 }),
              len: fc.integer({ min: 1, max: 40 }),
              v: fc.integer({ min: 1, max: 255 }),
            }),
            fc.record({ op: fc.constant("t" as const), at: fc.integer({ min: 0, max: SIZE }) }),
          ),
          { maxLength: 60 },
        ),
        fc.integer({ min: 0, max: SIZE - 1 }),
        fc.integer({ min: 0, max: SIZE }),
        (ops, readAt, readLen) => {
          const o = new WriteOverlay();
          // Model: value per byte, 0 = not staged.
          const model = new Uint8Array(SIZE);
          for (const op of ops) {
            if (op.op === "w") {
              o.add(op.at, new Uint8Array(op.len).fill(op.v));
              model.fill(op.v, op.at, op.at + op.len);
            } else {
              o.truncate(op.at);
              model.fill(0, op.at);
            }
          }
          const len = Math.min(readLen, SIZE - readAt);
          const out = new Uint8Array(len);
          o.applyTo(out, readAt);
          expect(out).toEqual(model.slice(readAt, readAt + len));
          expect(o.bytes).toBe(o.ranges().reduce((s, r) => s + r.length, 0));
          const r = o.ranges();
          for (let i = 1; i < r.length; i++) expect(r[i].start).toBeGreaterThan(r[i - 1].start + r[i - 1].length);
        },
      ),
    );
  });
});
