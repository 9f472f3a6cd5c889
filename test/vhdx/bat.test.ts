import { describe, expect, it } from "vitest";
import {
  Bat,
  BAT_ENTRY_SIZE,
  batGeometry,
  blockOfEntry,
  encodeBatEntry,
  forEachSpan,
  isSectorBitmapEntry,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  payloadEntryIndex,
  SB_BLOCK_PRESENT,
  sectorBitmapEntryIndex,
} from "../../src/vhdx/bat";
import { MiB, TiB } from "../../src/vhdx/bytes";
import { Rng } from "../helpers/random";

describe("BAT geometry (§2.4, §2.5)", () => {
  it("follows the spec's formulas", () => {
    // 512-byte sectors, 1 MiB blocks: chunk ratio 2^23 * 512 / 2^20 = 4096.
    const g = batGeometry(MiB, 512, 10 * MiB + 512, false);
    expect(g.chunkRatio).toBe(4096);
    expect(g.dataBlocksCount).toBe(11);
    expect(g.sectorBitmapBlocksCount).toBe(1);
    expect(g.totalBatEntries).toBe(11);
    // Differencing: entries up to and including the last chunk's sector bitmap entry.
    expect(batGeometry(MiB, 512, 10 * MiB, true).totalBatEntries).toBe(4097);
    // 64 TiB, 32 MiB blocks, 512-byte sectors (QEMU's default for large disks).
    const big = batGeometry(32 * MiB, 512, 64 * TiB, false);
    expect(big.chunkRatio).toBe(128);
    expect(big.dataBlocksCount).toBe(2 * MiB);
    expect(big.totalBatEntries).toBe(2 * MiB + (2 * MiB - 1 - ((2 * MiB - 1) % 128)) / 128);
  });

  it("interleaves a sector bitmap entry after each chunk's payload entries", () => {
    const g = batGeometry(256 * MiB, 4096, 64 * TiB, true); // chunk ratio 128
    expect(g.chunkRatio).toBe(128);
    expect(payloadEntryIndex(g, 127)).toBe(127);
    expect(payloadEntryIndex(g, 128)).toBe(129);
    expect(sectorBitmapEntryIndex(g, 0)).toBe(128);
    expect(sectorBitmapEntryIndex(g, 1)).toBe(257);
    for (const i of [0, 127, 129, 256, 258]) {
      expect(isSectorBitmapEntry(g, i)).toBe(false);
      expect(payloadEntryIndex(g, blockOfEntry(g, i))).toBe(i);
    }
    expect(isSectorBitmapEntry(g, 128)).toBe(true);
  });
});

describe("BAT entries (§2.5.1)", () => {
  it("round-trips state and a 44-bit FileOffsetMB", () => {
    const g = batGeometry(MiB, 512, 8 * MiB, true);
    const raw = new Uint8Array(16 * 8);
    raw.set(encodeBatEntry(PAYLOAD_BLOCK_FULLY_PRESENT, 5), 0);
    raw.set(encodeBatEntry(PAYLOAD_BLOCK_PARTIALLY_PRESENT, 2 ** 44 - 1), 8);
    raw.set(encodeBatEntry(SB_BLOCK_PRESENT, 4095), 16);
    raw.set(encodeBatEntry(SB_BLOCK_PRESENT, 4096), 24);
    const bat = new Bat(g, raw);
    expect([bat.state(0), bat.fileOffsetMB(0)]).toEqual([6, 5]);
    expect([bat.state(1), bat.fileOffsetMB(1)]).toEqual([7, 2 ** 44 - 1]);
    expect(bat.fileOffsetMB(2)).toBe(4095);
    expect(bat.fileOffsetMB(3)).toBe(4096);
    expect(bat.reserved(1)).toBe(0);
    for (let i = 0; i < 4; i++) expect(bat.entryBytes(i)).toEqual(raw.subarray(i * 8, i * 8 + 8));
  });

  it("reads the reserved bits (3–19) separately from state and offset", () => {
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setUint32(0, (0x1ffff << 3) | 6 | (7 << 20), true);
    const bat = new Bat(batGeometry(MiB, 512, MiB, false), raw);
    expect([bat.state(0), bat.reserved(0), bat.fileOffsetMB(0)]).toEqual([6, 0x1ffff, 7]);
  });

  it("reads entries missing from a short BAT as NOT_PRESENT, allocating only what is present", () => {
    const raw = encodeBatEntry(PAYLOAD_BLOCK_FULLY_PRESENT, 3);
    const bat = new Bat(batGeometry(MiB, 512, 64 * TiB, false), raw, 1 << 26);
    expect(bat.length).toBe(1 << 26);
    expect(bat.words.length).toBe(2);
    expect([bat.state(0), bat.fileOffsetMB(0)]).toEqual([6, 3]);
    expect([bat.state(1 << 25), bat.fileOffsetMB(1 << 25)]).toEqual([0, 0]);
  });
});

describe("Bat over raw bytes", () => {
  const g = batGeometry(MiB, 512, 8 * MiB, false);
  const raw = () => {
    const b = new Uint8Array(8 * BAT_ENTRY_SIZE);
    b.set(encodeBatEntry(6, 3), 0); // §2.5.1: FULLY_PRESENT at FileOffsetMB 3
    b.set(encodeBatEntry(6, 5000), 8 * 7);
    return b;
  };

  it("adopts a buffer handed over as owned and copies one that is not, decoding both alike", () => {
    const a = raw();
    const owned = new Bat(g, a, 8, true);
    const b = raw();
    const copied = new Bat(g, b, 8);
    expect(owned.words.buffer).toBe(a.buffer);
    expect(copied.words.buffer).not.toBe(b.buffer);
    for (const bat of [owned, copied]) {
      expect([bat.state(0), bat.fileOffsetMB(0)]).toEqual([6, 3]);
      expect([bat.state(7), bat.fileOffsetMB(7)]).toEqual([6, 5000]);
      expect(bat.state(3)).toBe(0);
    }
    // A view into a larger buffer is never adopted: the rest of that buffer belongs to someone else.
    const big = new Uint8Array(128);
    big.set(raw(), 0);
    expect(new Bat(g, big.subarray(0, 64), 8, true).words.buffer).not.toBe(big.buffer);
  });
});

describe("forEachSpan", () => {
  type Kind = "zero" | "repeat" | "other";
  function spansOf(words: Uint32Array, n: number, align: number): [number, number, Kind][] {
    const out: [number, number, Kind][] = [];
    forEachSpan(words, n, align, {
      zero: (a, b) => out.push([a, b, "zero"]),
      repeat: (a, b) => out.push([a, b, "repeat"]),
      other: (a, b) => out.push([a, b, "other"]),
    });
    return out;
  }
  /** What a span is, by a plain scan: the oracle. */
  function kindOf(words: Uint32Array, a: number, b: number, align: number): Kind {
    const w = words.subarray(a * 2, b * 2);
    if (w.every((x) => x === 0)) return "zero";
    const p = align * 2;
    if ((b - a) % align === 0 && b - a >= 2 * align && w.every((x, k) => k < p || x === w[k - p])) return "repeat";
    return "other";
  }

  it("covers every entry once, in aligned spans, each told apart as a plain scan tells it", () => {
    const rng = new Rng(21);
    const seen = new Set<Kind>();
    for (let round = 0; round < 80; round++) {
      const align = [1, 3, 129, 4097, 5000][round % 5];
      const n = rng.u32() % 90_000;
      const words = new Uint32Array(n * 2);
      const pattern = round % 8;
      if (pattern < 4) {
        // Mostly empty, with a few entries set (either word, any bit), sometimes none at all.
        const density = [0, 0.0002, 0.002, 0.05][pattern];
        for (let k = 0; k < words.length; k++) if (rng.u32() / 2 ** 32 < density) words[k] = 1 << (rng.u32() % 32);
      } else {
        // One chunk's pattern repeated (as QEMU's ZERO entries with empty sector bitmap entries),
        // sometimes with one entry changed somewhere.
        const chunk = Array.from({ length: align * 2 }, (_, k) => (k % 2 === 0 && k < align * 2 - 2 ? 2 : 0));
        for (let k = 0; k < words.length; k++) words[k] = chunk[k % chunk.length];
        if (pattern >= 6 && n > 0) words[(rng.u32() % n) * 2] = 6 | (5 << 20);
      }
      let at = 0;
      for (const [a, b, kind] of spansOf(words, n, align)) {
        expect(a).toBe(at);
        expect(b).toBeGreaterThan(a);
        expect(a % align).toBe(0);
        expect(kind).toBe(kindOf(words, a, b, align));
        seen.add(kind);
        at = b;
      }
      expect(at).toBe(n);
    }
    expect([...seen].sort()).toEqual(["other", "repeat", "zero"]);
  });

  it("walks a view into a larger buffer by its own offset", () => {
    const backing = new Uint32Array(10_000 * 2 + 8);
    const words = backing.subarray(4, 4 + 10_000 * 2);
    backing[0] = 0xffffffff; // outside the view: must not make any span non-zero
    words[2 * 9_000] = 6;
    const spans = spansOf(words, 10_000, 1);
    expect(spans.filter(([, , k]) => k !== "zero")).toHaveLength(1);
    const [a, b] = spans.find(([, , k]) => k !== "zero")!;
    expect(a).toBeLessThanOrEqual(9_000);
    expect(b).toBeGreaterThan(9_000);
  });
});
