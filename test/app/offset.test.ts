import { describe, expect, it } from "vitest";
import { parseOffset } from "../../src/app/lib/offset";

const TiB = 1024 ** 4;

describe("parseOffset (Go to offset)", () => {
  it("reads decimal bytes", () => {
    expect(parseOffset("4096", 512, TiB)).toEqual({ ok: true, offset: 4096, unit: "bytes" });
    expect(parseOffset("  1_048_576 ", 512, TiB)).toEqual({ ok: true, offset: 1048576, unit: "bytes" });
  });
  it("reads binary size suffixes", () => {
    expect(parseOffset("1 MiB", 512, TiB)).toMatchObject({ ok: true, offset: 1048576 });
    expect(parseOffset("2k", 512, TiB)).toMatchObject({ ok: true, offset: 2048 });
    expect(parseOffset("1.5KiB", 512, TiB)).toMatchObject({ ok: true, offset: 1536 });
    expect(parseOffset("3 GB", 512, 64 * TiB)).toMatchObject({ ok: true, offset: 3 * 1024 ** 3 });
  });
  it("reads 0x hex with separators and either case", () => {
    expect(parseOffset("0x1F", 512, TiB)).toEqual({ ok: true, offset: 31, unit: "hex" });
    expect(parseOffset("0x3_4000_0000", 512, 64 * TiB)).toEqual({ ok: true, offset: 0x340000000, unit: "hex" });
  });
  it("reads LBAs in logical sectors", () => {
    expect(parseOffset("LBA 34", 512, TiB)).toEqual({ ok: true, offset: 34 * 512, unit: "lba" });
    expect(parseOffset("lba:2", 4096, TiB)).toEqual({ ok: true, offset: 8192, unit: "lba" });
    expect(parseOffset("7s", 512, TiB)).toEqual({ ok: true, offset: 3584, unit: "lba" });
  });
  it("reaches the last byte of a 64 TiB disk and refuses the end", () => {
    expect(parseOffset(String(64 * TiB - 1), 512, 64 * TiB)).toMatchObject({ ok: true, offset: 64 * TiB - 1 });
    const r = parseOffset("0x4000_0000_0000", 512, 64 * TiB);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/past the end/);
  });
  it("rejects junk, fractions of a byte, unknown units and unsafe numbers", () => {
    for (const bad of [
      "",
      "abc",
      "0x",
      "0xZZ",
      "1.3",
      "12 parsecs",
      "-5",
      "99999999999999999999",
      "0x1234567890abcdef1",
    ]) {
      expect(parseOffset(bad, 512, 2 ** 53).ok, bad).toBe(false);
    }
  });
});
