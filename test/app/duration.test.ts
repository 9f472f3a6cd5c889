import { describe, expect, it } from "vitest";
import { formatDuration } from "../../src/app/lib/duration";

describe("formatDuration", () => {
  it("says seconds, minutes and hours as a person would", () => {
    expect(formatDuration(0.4)).toBe("under a second");
    expect(formatDuration(12.4)).toBe("12 s");
    expect(formatDuration(84)).toBe("1 min 24 s");
    expect(formatDuration(3600 + 5 * 60 + 10)).toBe("1 h 5 min");
    expect(formatDuration(Infinity)).toBe("unknown");
    expect(formatDuration(Number.NaN)).toBe("unknown");
  });
});
