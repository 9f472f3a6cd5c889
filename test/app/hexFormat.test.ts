import { describe, expect, it } from "vitest";
import {
  asciiChar,
  formatHexRow,
  formatOffset,
  hexByte,
  offsetDigits,
  parseHexBytes,
  rowCount,
  textBytes,
} from "../../src/app/lib/hexFormat";

describe("hex row formatting", () => {
  it("formats every byte as two lowercase digits", () => {
    expect(hexByte(0)).toBe("00");
    expect(hexByte(0xab)).toBe("ab");
    expect(hexByte(255)).toBe("ff");
  });
  it("sizes the offset column to the space", () => {
    expect(offsetDigits(1024)).toBe(8);
    expect(offsetDigits(2 ** 32)).toBe(8);
    expect(offsetDigits(2 ** 32 + 1)).toBe(10);
    expect(offsetDigits(64 * 1024 ** 4)).toBe(12);
    expect(formatOffset(0x10, 8)).toBe("0000_0010");
    expect(formatOffset(64 * 1024 ** 4 - 16, 12)).toBe("3fff_ffff_fff0");
  });
  it("builds hex cells and an ASCII column, blank past the end", () => {
    const bytes = new Uint8Array([0x76, 0x68, 0x64, 0x78, 0x66, 0x69, 0x6c, 0x65, 0x00, 0x7f, 0x20, 0x41]);
    const row = formatHexRow(0x10000, bytes, 8);
    expect(row.offsetText).toBe("0001_0000");
    expect(row.cells.slice(0, 12)).toEqual(["76", "68", "64", "78", "66", "69", "6c", "65", "00", "7f", "20", "41"]);
    expect(row.cells.slice(12)).toEqual(["", "", "", ""]);
    expect(row.ascii).toBe("vhdxfile·· A    ");
  });
  it("marks control and high bytes as non-printable", () => {
    expect(asciiChar(0x1f)).toBe("·");
    expect(asciiChar(0x80)).toBe("·");
    expect(asciiChar(0x7e)).toBe("~");
  });
  it("counts rows of a 64 TiB disk exactly", () => {
    expect(rowCount(64 * 1024 ** 4)).toBe(2 ** 42);
    expect(rowCount(17)).toBe(2);
  });
  it("reads pasted hex in the usual spellings and refuses non-hex", () => {
    expect(Array.from(parseHexBytes("de ad be ef")!)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(Array.from(parseHexBytes("0xDE,0xAD")!)).toEqual([0xde, 0xad]);
    expect(Array.from(parseHexBytes("00:11-22")!)).toEqual([0, 0x11, 0x22]);
    expect(parseHexBytes("abc")).toBeNull();
    expect(parseHexBytes("hello")).toBeNull();
    expect(parseHexBytes("")).toBeNull();
  });
  it("turns typed text into Latin-1 bytes and refuses wider characters", () => {
    expect(Array.from(textBytes("Hi!")!)).toEqual([0x48, 0x69, 0x21]);
    expect(textBytes("€")).toBeNull();
  });
});
