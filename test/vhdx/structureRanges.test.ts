import { describe, expect, it } from "vitest";
import { protectedAt, protectedRanges, structureRangeProblemIn } from "../../src/vhdx/structureRanges";

const K = 1024;
const M = 1024 * K;
// qemu-img's layout for a small dynamic image: log at 1 MiB, BAT at 2 MiB, metadata at 3 MiB.
const layout = {
  log: { fileOffset: 1 * M, length: 1 * M },
  bat: { fileOffset: 2 * M, length: 1 * M },
  metadata: { fileOffset: 3 * M, length: 1 * M },
};

describe("protected ranges of the raw file", () => {
  it("lists the header section, the log and everything past the structures", () => {
    const r = protectedRanges(layout, 8 * M);
    expect(r.map((x) => [x.start, x.end])).toEqual([
      [0, 64 * K], // file type identifier
      [64 * K, 192 * K], // both headers
      [320 * K, 1 * M], // reserved rest of the header section
      [1 * M, 2 * M], // the log
      [4 * M, 8 * M], // payload, free space
    ]);
    expect(r[0].reason).toMatch(/file type identifier/);
    expect(r[1].reason).toMatch(/header update protocol/);
    expect(r[3].reason).toMatch(/written only by the log/);
    expect(r[4].reason).toMatch(/virtual-disk patches/);
  });

  it("shades a byte exactly when the commit rule refuses a one-byte edit of it", () => {
    const fileSize = 8 * M + 123;
    const r = protectedRanges(layout, fileSize);
    const probes = new Set<number>();
    for (const x of [0, 64 * K, 192 * K, 256 * K, 320 * K, 1 * M, 2 * M, 3 * M, 4 * M, fileSize])
      for (const d of [-1, 0, 1]) if (x + d >= 0 && x + d < fileSize) probes.add(x + d);
    for (let i = 0; i < 500; i++) probes.add(Math.floor((i * 7919 * 4099) % fileSize));
    for (const o of probes) {
      const refused = structureRangeProblemIn(layout, o, 1) !== null;
      expect(protectedAt(r, o) !== null, `offset ${o}`).toBe(refused);
    }
  });

  it("keeps a region placed over the header section protected there (a damaged region table)", () => {
    const bad = { ...layout, bat: { fileOffset: 32 * K, length: 1 * M } };
    const r = protectedRanges(bad, 4 * M);
    expect(protectedAt(r, 40 * K)?.reason).toMatch(/file type identifier/);
    expect(protectedAt(r, 100 * K)?.reason).toMatch(/header update protocol/);
    expect(protectedAt(r, 500 * K)).toBeNull(); // inside that BAT, past the header section
    expect(structureRangeProblemIn(bad, 500 * K, 1)).toBeNull();
  });
});
