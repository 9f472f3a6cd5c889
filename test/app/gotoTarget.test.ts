import { describe, expect, it } from "vitest";
import { fileStructureTargets, parseGoto, partitionTargets, type GotoContext } from "../../src/app/lib/gotoTarget";

const K = 1024;
const M = 1024 * K;
// qemu-img's layout of a small dynamic image (as `vhdx info --json` reports it).
const info = {
  headers: [
    { index: 0, fileOffset: 64 * K },
    { index: 1, fileOffset: 128 * K },
  ],
  regionTables: [
    { index: 0, fileOffset: 192 * K },
    { index: 1, fileOffset: 256 * K },
  ],
  regions: [
    { name: "BAT", fileOffset: 2 * M },
    { name: "metadata", fileOffset: 3 * M },
  ],
  log: { offset: 1 * M, length: 1 * M },
};

const ctx = (over: Partial<GotoContext> = {}): GotoContext => ({
  space: "virtual",
  cursor: 0x1000,
  sizes: { virtual: 64 * M, file: 8 * M },
  sectorSizes: { virtual: 512, file: 4096 },
  blockSize: 1 * M,
  targets: [
    ...fileStructureTargets(info),
    ...partitionTargets([
      { number: 1, name: "EFI system", offset: 2048 * 512 },
      { number: 2, offset: 4096 * 512 },
    ]),
  ],
  ...over,
});

describe("parseGoto", () => {
  it("moves relative to the cursor by bytes, hex, sectors and blocks", () => {
    expect(parseGoto("+0x200", ctx())).toEqual({ ok: true, space: "virtual", offset: 0x1200, label: null });
    expect(parseGoto("-1 sector", ctx())).toMatchObject({ ok: true, offset: 0x1000 - 512 });
    expect(parseGoto("-2 sectors", ctx({ space: "file", cursor: 3 * M }))).toMatchObject({ offset: 3 * M - 8192 });
    expect(parseGoto("+4 KiB", ctx())).toMatchObject({ ok: true, offset: 0x2000 });
    expect(parseGoto("+ 16", ctx())).toMatchObject({ ok: true, offset: 0x1010 });
    expect(parseGoto("+3s", ctx())).toMatchObject({ ok: true, offset: 0x1000 + 1536 });
    expect(parseGoto("+2 blocks", ctx())).toMatchObject({ ok: true, offset: 0x1000 + 2 * M });
  });
  it("refuses a step before the start or past the end", () => {
    expect(parseGoto("-0x1001", ctx())).toEqual({ ok: false, error: "That is 1 byte before the start" });
    expect(parseGoto("+64 MiB", ctx())).toMatchObject({ ok: false, error: expect.stringMatching(/past the end/) });
    expect(parseGoto("+lots", ctx())).toMatchObject({ ok: false, error: expect.stringMatching(/as a step/) });
  });
  it("finds the raw file's structures by name from either view, switching to the raw file", () => {
    expect(parseGoto("bat", ctx())).toEqual({ ok: true, space: "file", offset: 2 * M, label: "BAT" });
    expect(parseGoto("  Header 2 ", ctx())).toMatchObject({ space: "file", offset: 128 * K });
    expect(parseGoto("header 1", ctx())).toMatchObject({ offset: 64 * K });
    expect(parseGoto("region table 2", ctx())).toMatchObject({ offset: 256 * K });
    expect(parseGoto("region table 1", ctx())).toMatchObject({ offset: 192 * K });
    expect(parseGoto("LOG", ctx())).toMatchObject({ offset: 1 * M, label: "log" });
    expect(parseGoto("metadata", ctx())).toMatchObject({ offset: 3 * M });
    expect(parseGoto("file identifier", ctx())).toMatchObject({ space: "file", offset: 0 });
  });
  it("finds partitions by number or GPT name in the virtual disk", () => {
    expect(parseGoto("partition 2", ctx({ space: "file" }))).toMatchObject({ space: "virtual", offset: 4096 * 512 });
    expect(parseGoto("efi system", ctx())).toMatchObject({ space: "virtual", offset: 2048 * 512 });
    expect(parseGoto("p1", ctx())).toMatchObject({ offset: 2048 * 512, label: 'partition 1 "EFI system"' });
  });
  it("keeps absolute offsets and LBAs in the space on screen", () => {
    expect(parseGoto("lba 2048", ctx())).toEqual({ ok: true, space: "virtual", offset: 2048 * 512, label: null });
    expect(parseGoto("LBA 2", ctx({ space: "file" }))).toMatchObject({ space: "file", offset: 8192 });
    expect(parseGoto("0x10_0000", ctx())).toMatchObject({ offset: M });
    expect(parseGoto("0x100_0000", ctx({ space: "file" }))).toMatchObject({ ok: false });
  });
  it("names the choices for an unknown name", () => {
    const r = parseGoto("superblock", ctx());
    expect(r).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Unknown name "superblock"; try file identifier, header 1/),
    });
  });
  it("says when a named structure lies past the end of a truncated file", () => {
    expect(parseGoto("metadata", ctx({ sizes: { virtual: 64 * M, file: 2 * M } }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/past the end/),
    });
  });
});
