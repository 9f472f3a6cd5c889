import { describe, expect, it } from "vitest";
import {
  ALL_STATES,
  LIGHT_PALETTE,
  SB_FILTER_SHIFT,
  batColumns,
  countBatStates,
  describeBatEntry,
  paintBat,
  rgba,
} from "../../src/app/lib/batPixels";

/** Raw BAT words for entries given as [state, fileOffsetMB] (§2.5: state bits 0–2, FileOffsetMB bits 20–63). */
function words(entries: [number, number][]): Uint32Array {
  const w = new Uint32Array(entries.length * 2);
  entries.forEach(([state, mb], i) => {
    w[i * 2] = (state | ((mb % 4096) << 20)) >>> 0;
    w[i * 2 + 1] = Math.floor(mb / 4096);
  });
  return w;
}

describe("BAT colouring", () => {
  it("packs colours as ImageData bytes R, G, B, A", () => {
    const px = new Uint32Array([rgba(1, 2, 3, 4)]);
    expect(Array.from(new Uint8Array(px.buffer))).toEqual([1, 2, 3, 4]);
  });

  // chunk ratio 2: entries go P P S P P S …
  const raw = words([
    [6, 3],
    [0, 0],
    [6, 5], // chunk 0: FULLY_PRESENT, NOT_PRESENT, sector bitmap PRESENT
    [2, 0],
    [7, 9],
    [0, 0], // chunk 1: ZERO, PARTIALLY_PRESENT, sector bitmap NOT_PRESENT
    [3, 0], // chunk 2: UNMAPPED
  ]);

  it("colours payload entries by state and sector bitmap entries with their own colours", () => {
    const out = new Uint32Array(9);
    paintBat(raw, 7, 2, LIGHT_PALETTE, ALL_STATES, out);
    const P = LIGHT_PALETTE.payload;
    const S = LIGHT_PALETTE.sectorBitmap;
    expect(Array.from(out)).toEqual([
      P[6],
      P[0],
      S[6],
      P[2],
      P[7],
      S[0],
      P[3],
      LIGHT_PALETTE.empty,
      LIGHT_PALETTE.empty,
    ]);
    // A sector bitmap entry is never painted with a payload colour of the same state.
    expect(S[6]).not.toBe(P[6]);
    expect(S[0]).not.toBe(P[0]);
  });

  it("greys out entries whose state is filtered away", () => {
    const out = new Uint32Array(7);
    const onlyFullyPresent = 1 << 6;
    paintBat(raw, 7, 2, LIGHT_PALETTE, onlyFullyPresent, out);
    const F = LIGHT_PALETTE.filtered;
    expect(Array.from(out)).toEqual([LIGHT_PALETTE.payload[6], F, F, F, F, F, F]);
    paintBat(raw, 7, 2, LIGHT_PALETTE, 1 << (SB_FILTER_SHIFT + 6), out);
    expect(Array.from(out)).toEqual([F, F, LIGHT_PALETTE.sectorBitmap[6], F, F, F, F]);
  });

  it("counts states per kind", () => {
    const c = countBatStates(raw, 7, 2);
    expect(Array.from(c.payload)).toEqual([1, 0, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(c.sectorBitmap)).toEqual([1, 0, 0, 0, 0, 0, 1, 0]);
  });

  it("paints a 64 TiB disk's 2,097,152 entries with counts that add up", () => {
    // 64 TiB, 32 MiB blocks, 512-byte sectors: chunk ratio 128, 2^21 payload blocks.
    const chunkRatio = 128;
    const payloadBlocks = 2 ** 21;
    const entries = payloadBlocks + Math.floor((payloadBlocks - 1) / chunkRatio);
    const w = new Uint32Array(entries * 2);
    for (let i = 0; i < entries; i += 3) w[i * 2] = 6;
    const out = new Uint32Array(entries);
    paintBat(w, entries, chunkRatio, LIGHT_PALETTE, ALL_STATES, out);
    const c = countBatStates(w, entries, chunkRatio);
    const total = c.payload.reduce((a, b) => a + b, 0) + c.sectorBitmap.reduce((a, b) => a + b, 0);
    expect(total).toBe(entries);
    expect(c.payload.reduce((a, b) => a + b, 0)).toBe(payloadBlocks);
    expect(out[entries - 1]).toBe(LIGHT_PALETTE.payload[w[(entries - 1) * 2] & 7]);
    expect(out[128]).toBe(LIGHT_PALETTE.sectorBitmap[w[256] & 7]);
  });

  it("describes an entry: index, virtual range, state, file offset", () => {
    const blockSize = 1024 * 1024;
    const d = describeBatEntry(raw, 4, 2, blockSize, 5 * blockSize - 512);
    expect(d).toMatchObject({
      index: 4,
      isSectorBitmap: false,
      state: 7,
      block: 3,
      fileOffset: 9 * 1024 * 1024,
      virtualStart: 3 * blockSize,
      virtualEnd: 4 * blockSize,
    });
    const sb = describeBatEntry(raw, 2, 2, blockSize, 5 * blockSize - 512);
    expect(sb).toMatchObject({
      isSectorBitmap: true,
      block: 0,
      fileOffset: 5 * 1024 * 1024,
      virtualStart: 0,
      virtualEnd: 2 * blockSize,
    });
    // Last block is partial: the range stops at the virtual size.
    const last = describeBatEntry(raw, 6, 2, blockSize, 5 * blockSize - 512);
    expect(last).toMatchObject({ block: 4, virtualStart: 4 * blockSize, virtualEnd: 5 * blockSize - 512 });
  });

  it("decodes FileOffsetMB above 4095 from the high word", () => {
    const w = words([[6, 4096 * 3 + 17]]);
    expect(describeBatEntry(w, 0, 128, 32 << 20, 2 ** 40).fileOffset).toBe((4096 * 3 + 17) * 2 ** 20);
  });

  it("lines rows up with whole chunks and keeps the picture about 3:2", () => {
    const c = batColumns(128, 2_113_535);
    expect(c % 129).toBe(0);
    const rows = Math.ceil(2_113_535 / c);
    expect(c / rows).toBeGreaterThan(1.2);
    expect(c / rows).toBeLessThan(1.9);
    const wide = batColumns(4096, 2_000_000);
    expect(Math.ceil(2_000_000 / wide)).toBeLessThan(wide);
    expect(batColumns(128, 10)).toBe(16);
    // 64 TiB in 1 MiB blocks: 2^26 payload entries still fit a canvas.
    const huge = 2 ** 26 + 2 ** 26 / 4096;
    const cols = batColumns(4096, huge);
    expect(Math.ceil(huge / cols)).toBeLessThanOrEqual(16384);
    expect(cols).toBeLessThanOrEqual(32767);
  });
});
