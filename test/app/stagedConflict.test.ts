/** Staged hex edits against the range a file write covers: inside it, touching it, raw-file edits. */
import { describe, expect, it } from "vitest";
import { stagedConflict } from "../../src/app/lib/stagedConflict";

const v = (offset: number, n: number) => ({ space: "virtual" as const, offset, data: new Uint8Array(n) });

describe("stagedConflict", () => {
  it("lets edits that end where the range starts, or start where it ends, stay staged", () => {
    expect(stagedConflict([v(0, 100), v(1100, 4)], 100, 1000)).toBeNull();
  });
  it("counts the staged bytes inside the range", () => {
    expect(stagedConflict([v(90, 20), v(1099, 5)], 100, 1000)).toMatch(/^11 staged bytes lie inside/);
    expect(stagedConflict([v(500, 1)], 100, 1000)).toMatch(/^1 staged byte lies inside/);
  });
  it("refuses while any raw file edit is staged, wherever it is", () => {
    expect(stagedConflict([{ space: "file", offset: 3 * 1024 * 1024, data: new Uint8Array(8) }], 0, 10)).toMatch(
      /raw file edit is staged/,
    );
  });
  it("an empty file conflicts with nothing", () => {
    expect(stagedConflict([v(100, 4)], 100, 0)).toBeNull();
  });
});
