/**
 * `map()` follows the layout's runs, not the block count: adjacent blocks of one kind are one
 * extent, and a window of the file at a cell size holds no more than its cells need. The region
 * view's picture, laid out from windows, is the picture of the whole exact map.
 */
import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { encodeBatEntry, PAYLOAD_BLOCK_NOT_PRESENT, PAYLOAD_BLOCK_UNMAPPED } from "../../src/vhdx/bat";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { layoutRegionMap, mapExtentEnd, MIN_CELL_BYTES, zoomLevels } from "../../src/app/lib/regionLayout";
import { buildImage } from "../helpers/buildImage";
import { useTempDir } from "../helpers/tmp";

const MiB = 2 ** 20;
const TiB = 2 ** 40;
const tmp = useTempDir("vhdx-map-");

describe("map() on a 1 TiB fixed image with 1 MiB blocks", () => {
  it("is a handful of extents whatever the block count, and small to clone", async () => {
    const path = tmp.path("fixed-1t.vhdx");
    const out = await NodeFileBackend.open(path, { create: "exclusive" });
    await createImage(out, { type: "fixed", virtualSize: TiB, blockSize: MiB });
    await out.close();
    const img = await openImage(await NodeFileBackend.open(path));
    try {
      // §2.5: 2^20 payload entries and one sector bitmap entry per chunk of 4096 (chunk ratio 2^23 × 512 / 1 MiB) but the last.
      expect(img.bat.length).toBe(1024 * 1024 + 255);
      const m = img.map();
      // Header section parts (6), log, metadata, BAT, and one run of 2^20 payload blocks.
      expect(m.extents.length).toBeLessThanOrEqual(10);
      const run = m.extents.find((e) => e.kind === "payload-block")!;
      expect(run).toMatchObject({ blocks: TiB / MiB, length: TiB, index: 0 });
      expect(run.name).toMatch(/^1048576 payload blocks \(BAT entries 0–/);
      const cloned = serialize(m).length;
      expect(cloned).toBeLessThan(8 * 1024);
      // A window at the finest zoom is as small.
      const w = img.map({
        start: 512 * 1024 * MiB,
        end: 512 * 1024 * MiB + 4096 * MIN_CELL_BYTES,
        granularity: MIN_CELL_BYTES,
      });
      expect(w.extents).toHaveLength(1);
      expect(w.window).toEqual({
        start: 512 * 1024 * MiB,
        end: 512 * 1024 * MiB + 4096 * MIN_CELL_BYTES,
        granularity: MIN_CELL_BYTES,
      });
      expect(mapExtentEnd(w)).toBe(mapExtentEnd(m));
    } finally {
      await img.close();
    }
  });
});

/** A dynamic image whose blocks lie scattered: some entries dropped (gaps), one UNMAPPED keeping its space. */
function scattered() {
  const img = buildImage({ virtualSize: 96 * MiB, allocated: [...Array(96).keys()] });
  for (let b = 0; b < 96; b++) {
    if (b % 7 === 3 || b % 11 === 5 || (b > 40 && b < 46))
      img.bytes.set(encodeBatEntry(PAYLOAD_BLOCK_NOT_PRESENT, 0), img.batOffset + b * 8);
  }
  img.bytes.set(encodeBatEntry(PAYLOAD_BLOCK_UNMAPPED, img.blockOffsets.get(60)! / MiB), img.batOffset + 60 * 8);
  return img;
}

describe("map() windows", () => {
  it("coalesce only touching blocks of one kind when exact", async () => {
    const img = await openImage(new MemoryBackend(scattered().bytes));
    const m = img.map();
    const blocks = m.extents.filter((e) => e.kind === "payload-block");
    const total = blocks.reduce((n, e) => n + (e.blocks ?? 1), 0);
    let registered = 0;
    for (let b = 0; b < 96; b++) if (img.bat.state(b) !== PAYLOAD_BLOCK_NOT_PRESENT) registered++;
    expect(total).toBe(registered);
    for (let i = 1; i < blocks.length; i++) {
      const [a, b] = [blocks[i - 1], blocks[i]];
      // Neighbours left apart either do not touch or differ in kind (a retained block is its own run).
      expect(a.end < b.start || a.retained !== b.retained).toBe(true);
    }
    expect(blocks.find((e) => e.retained)).toMatchObject({ index: 60, name: "retained block (BAT entry 60)" });
  });

  it("laid out at any zoom and scroll, windows draw the picture of the whole exact map", async () => {
    const img = await openImage(new MemoryBackend(scattered().bytes));
    const whole = img.map();
    const levels = zoomLevels(mapExtentEnd(whole), 16);
    for (const bpc of levels) {
      const full = layoutRegionMap(whole, bpc);
      for (let first = 0; first < full.cellCount; first += 37) {
        const n = Math.min(50, full.cellCount - first);
        const w = img.map({ start: first * bpc, end: (first + n) * bpc, granularity: bpc });
        expect(w.extents.length).toBeLessThanOrEqual(2 * n + 12);
        const part = layoutRegionMap(w, bpc, first, n);
        expect(part.firstCell).toBe(first);
        expect(Array.from(part.kinds), `${bpc}-byte cells from ${first}`).toEqual(
          Array.from(full.kinds.subarray(first, first + n)),
        );
        expect(Array.from(part.overlap)).toEqual(Array.from(full.overlap.subarray(first, first + n)));
      }
    }
  });
});
