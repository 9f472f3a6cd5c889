import { describe, expect, it } from "vitest";
import { isAllZero, KiB, scanAllZero } from "../../src/vhdx/bytes";

describe.each([
  ["isAllZero (native comparison under Node)", isAllZero],
  ["scanAllZero (the loop browsers use)", scanAllZero],
])("%s", (_name, allZero) => {
  it("finds one non-zero byte anywhere, at any length and alignment (the naive scan is the reference)", () => {
    const buf = new Uint8Array(96);
    for (let start = 0; start < 5; start++) {
      for (let len = 0; len <= 80; len++) {
        const view = buf.subarray(start, start + len);
        expect(allZero(view)).toBe(true);
        for (let at = 0; at < len; at++) {
          view[at] = 1 << (at % 8);
          expect(allZero(view)).toBe(false);
          view[at] = 0;
        }
      }
    }
    // Bytes just outside the view do not count.
    buf[4] = 9;
    buf[40] = 9;
    expect(allZero(buf.subarray(5, 40))).toBe(true);
  });

  it("finds one non-zero byte in long runs, at the ends, the middle and 256 KiB boundaries", () => {
    const buf = new Uint8Array(1024 * KiB + 8);
    for (const start of [0, 1, 3]) {
      for (const len of [4 * KiB, 4 * KiB + 1, 256 * KiB, 256 * KiB + 7, 1024 * KiB]) {
        const view = buf.subarray(start, start + len);
        expect(allZero(view)).toBe(true);
        const spots = [1, len >>> 2, 256 * KiB - 1, 256 * KiB, 256 * KiB + 1, len - 2, len - 1].filter(
          (at) => at < len,
        );
        for (const at of spots) {
          view[at] = 0x80;
          expect(allZero(view)).toBe(false);
          view[at] = 0;
        }
      }
    }
    buf[0] = 1;
    buf[1024 * KiB + 1] = 1;
    expect(allZero(buf.subarray(1, 1024 * KiB + 1))).toBe(true);
  });
});
