import { describe, expect, it } from "vitest";
import { groupFindings } from "../../src/app/lib/findingGroups";
import type { Finding } from "../../src/app/store/engineApi";

const f = (severity: Finding["severity"], code: Finding["code"], offset: number): Finding => ({
  severity,
  code,
  message: `${code} at ${offset}`,
  structure: "s",
  offset,
  length: 1,
});

describe("groupFindings", () => {
  it("groups notes of one code, keeps errors and warnings apart, errors first", () => {
    const groups = groupFindings([
      f("info", "REGION_NOT_REQUIRED", 0x3002c),
      f("warning", "LOG_NEEDS_REPLAY", 1),
      f("info", "SPACE_UNREFERENCED", 0x400000),
      f("info", "REGION_NOT_REQUIRED", 0x3004c),
      f("error", "BAT_ENTRY_BEYOND_EOF", 2),
      f("error", "BAT_ENTRY_BEYOND_EOF", 3),
    ]);
    expect(groups.map((g) => [g.severity, g.code, g.findings.map((x) => x.offset)])).toEqual([
      ["error", "BAT_ENTRY_BEYOND_EOF", [2]],
      ["error", "BAT_ENTRY_BEYOND_EOF", [3]],
      ["warning", "LOG_NEEDS_REPLAY", [1]],
      ["info", "REGION_NOT_REQUIRED", [0x3002c, 0x3004c]],
      ["info", "SPACE_UNREFERENCED", [0x400000]],
    ]);
    expect(groupFindings([])).toEqual([]);
  });
});
