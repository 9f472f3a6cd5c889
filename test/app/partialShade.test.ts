import { describe, expect, it } from "vitest";
import { LIGHT_PALETTE, paintBat, ALL_STATES } from "../../src/app/lib/batPixels";
import { mix, shadePartial } from "../../src/app/toolbox/partialShade";

/** A BAT as (lo, hi) words: the states given, one per entry. */
function words(states: number[]): Uint32Array {
  const w = new Uint32Array(states.length * 2);
  states.forEach((s, i) => (w[i * 2] = s));
  return w;
}

describe("shading partially present blocks", () => {
  it("mixes colours channel by channel", () => {
    expect(mix(0x000000ff, 0x00ff00ff, 0)).toBe(0x000000ff);
    expect(mix(0x000000ff, 0x00ff00ff, 1)).toBe(0x00ff00ff);
    expect(mix(0x00000000, 0xc8c8c8c8, 0.5)).toBe(0x64646464);
  });

  it("recolours exactly the partial blocks' cells, past the sector bitmap entries, by their share of sectors", () => {
    // Chunk ratio 2: entries are P0 P1 SB0 P2 P3 SB1; blocks 1 and 2 are PARTIALLY_PRESENT (7).
    const states = [6, 7, 6, 7, 0, 0];
    const out = new Uint32Array(6);
    paintBat(words(states), 6, 2, LIGHT_PALETTE, ALL_STATES, out);
    const before = out.slice();
    shadePartial(
      out,
      { blocks: Uint32Array.of(1, 2), present: Uint32Array.of(2048, 0), sectorsPerBlock: 2048 },
      2,
      LIGHT_PALETTE,
    );
    const [low, high] = [LIGHT_PALETTE.payload[0], LIGHT_PALETTE.payload[7]];
    expect(out[1]).toBe(high); // every sector its own: the full colour
    expect(out[3]).toBe(mix(low, high, 0.25)); // none: the lightest shade
    for (const i of [0, 2, 4, 5]) expect(out[i]).toBe(before[i]);
  });

  it("leaves cells the filter hid alone", () => {
    const out = new Uint32Array(2);
    paintBat(words([7, 7]), 2, 4, LIGHT_PALETTE, 1 << 6, out);
    const before = out.slice();
    shadePartial(
      out,
      { blocks: Uint32Array.of(0, 1), present: Uint32Array.of(1, 1), sectorsPerBlock: 2048 },
      4,
      LIGHT_PALETTE,
    );
    expect(Array.from(out)).toEqual(Array.from(before));
  });
});
