import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fillBytes, MAX_FILL } from "../../src/app/lib/fill";

describe("fillBytes", () => {
  it("repeats the pattern over the length, as Buffer.fill does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 9 }), fc.nat(300), (unit, length) => {
        const text = Buffer.from(unit).toString("hex");
        const r = fillBytes(text, length);
        expect(r.ok).toBe(true);
        if (r.ok) expect(Buffer.from(r.data)).toEqual(Buffer.alloc(length).fill(Buffer.from(unit)));
      }),
    );
  });
  it("refuses what is not hex, and more than the cap", () => {
    expect(fillBytes("zz", 4).ok).toBe(false);
    expect(fillBytes("0", 4).ok).toBe(false);
    expect(fillBytes("00", MAX_FILL + 1).ok).toBe(false);
  });
});
