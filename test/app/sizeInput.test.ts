import { describe, expect, it } from "vitest";
import {
  MAX_VIRTUAL_SIZE,
  MiB,
  newImageProblems,
  parseSize,
  type NewImageFields,
} from "../../src/app/toolbox/sizeInput";
import { resolveCreateOptions } from "../../src/vhdx/create";

describe("the new image form's rules", () => {
  it("reads sizes with binary suffixes and refuses what is not a size", () => {
    expect(parseSize("64G")).toBe(64 * 2 ** 30);
    expect(parseSize("1.5 TiB")).toBe(1.5 * 2 ** 40);
    expect(parseSize("512m")).toBe(512 * MiB);
    expect(parseSize("4096")).toBe(4096);
    expect(parseSize("12 apples")).toBeNull();
    expect(parseSize("0.3K")).toBeNull(); // not a whole number of bytes
  });

  it("refuses exactly what the engine's create refuses (the spec's limits)", () => {
    const base: NewImageFields = {
      type: "dynamic",
      size: "1G",
      blockSize: 32 * MiB,
      logicalSectorSize: 512,
      physicalSectorSize: 4096,
      logSize: MiB,
    };
    const cases: Partial<NewImageFields>[] = [
      {},
      { size: "64T" },
      { size: String(MAX_VIRTUAL_SIZE + 512) },
      { size: "1000", logicalSectorSize: 512 },
      { size: "1024", logicalSectorSize: 512 },
      { size: "1536", logicalSectorSize: 4096 },
      { blockSize: 512 * 1024 },
      { blockSize: 3 * MiB },
      { blockSize: 256 * MiB },
      { blockSize: 512 * MiB },
      { logicalSectorSize: 1024 },
      { physicalSectorSize: 2048 },
      { logSize: MiB + 1 },
      { logSize: 8 * MiB },
      { type: "fixed", size: "16M" },
    ];
    for (const c of cases) {
      const f = { ...base, ...c };
      const formOk = Object.keys(newImageProblems(f)).length === 0;
      let engineOk = true;
      try {
        resolveCreateOptions({
          type: f.type as "dynamic" | "fixed",
          virtualSize: parseSize(f.size) ?? Number.NaN,
          blockSize: f.blockSize,
          logicalSectorSize: f.logicalSectorSize,
          physicalSectorSize: f.physicalSectorSize,
          logSize: f.logSize,
        });
      } catch {
        engineOk = false;
      }
      expect(formOk, JSON.stringify(c)).toBe(engineOk);
    }
  });

  it("a differencing image may leave the block size to its parent (0), no other image may", () => {
    const f: NewImageFields = {
      type: "differencing",
      size: "",
      blockSize: 0,
      logicalSectorSize: 512,
      physicalSectorSize: 512,
      logSize: MiB,
    };
    expect(newImageProblems(f)).toEqual({});
    expect(newImageProblems({ ...f, type: "dynamic", size: "1G" }).blockSize).toMatch(/power of two/);
  });
});
