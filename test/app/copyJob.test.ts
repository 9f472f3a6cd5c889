/**
 * The formatting worker's job: staged writes clipped to the copied range and laid over the bytes
 * read give what the grid shows, with the stage's own overlay (the grid's) as the oracle, and the
 * worker keeps the copy cap.
 */
import { describe, expect, it } from "vitest";
import { MAX_COPY_BYTES, formatCopy } from "../../src/app/lib/copyFormat";
import { copyMethods, layWrites, stagedWritesIn } from "../../src/app/lib/copyJob";
import { overlay, type EditStage, type StagedWrite } from "../../src/app/lib/editStage";
import { Transfer, type CallContext } from "../../src/worker/protocol";
import { Rng } from "../helpers/random";

const ctx: CallContext = { signal: new AbortController().signal, progress: () => {} };

function randomStage(rng: Rng, count: number): EditStage {
  const writes: StagedWrite[] = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + (rng.u32() % 40);
    writes.push({
      space: rng.u32() % 3 === 0 ? "file" : "virtual",
      offset: rng.u32() % 300,
      data: rng.bytes(len),
      kind: "paste",
      time: i,
    });
  }
  return { writes, redo: [] };
}

describe("staged writes in a copy", () => {
  it("clipped and laid over in order, they give the grid's overlay for every range", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Rng(seed);
      const stage = randomStage(rng, 1 + (seed % 9));
      const start = rng.u32() % 280;
      const length = 1 + (rng.u32() % 64);
      const base = rng.bytes(length);
      const want = overlay(stage, "virtual", start, base).bytes;
      const writes = stagedWritesIn(stage, "virtual", start, length);
      for (const w of writes) {
        expect(w.offset).toBeGreaterThanOrEqual(start);
        expect(w.offset + w.data.length).toBeLessThanOrEqual(start + length);
      }
      expect(layWrites(base.slice(), start, writes)).toEqual(want);
    }
  });

  it("only the copied space's writes cross, as copies the stage cannot change", () => {
    const data = Uint8Array.of(1, 2, 3, 4);
    const stage: EditStage = {
      writes: [
        { space: "file", offset: 0, data: Uint8Array.of(9), kind: "type", time: 0 },
        { space: "virtual", offset: 2, data, kind: "paste", time: 1 },
      ],
      redo: [],
    };
    const writes = stagedWritesIn(stage, "virtual", 3, 10);
    expect(writes).toEqual([{ offset: 3, data: Uint8Array.of(2, 3, 4) }]);
    data[1] = 0xff;
    expect(writes[0].data[0]).toBe(2);
  });

  it("the worker method formats the overlaid bytes and refuses more than the cap", async () => {
    const base = Uint8Array.of(0x45, 0x46, 0x49, 0x20, 0x50);
    const text = await copyMethods.format(ctx, "hex", base.slice(), 0x200, "virtual", [
      { offset: 0x203, data: Uint8Array.of(0xaa, 0xbb) },
    ]);
    expect(text).toBeInstanceOf(Transfer);
    expect(new TextDecoder().decode((text as Transfer<Uint8Array>).value)).toBe(
      formatCopy("hex", Uint8Array.of(0x45, 0x46, 0x49, 0xaa, 0xbb), 0x200, "virtual"),
    );
    await expect(copyMethods.format(ctx, "hex", new Uint8Array(MAX_COPY_BYTES + 1), 0, "virtual", [])).rejects.toThrow(
      /limited/,
    );
  });
});
