/**
 * Random sequences of writes and patches, on every disk type and sector size, against a plain
 * byte array: the image reads as the model before and after reopening, and nothing overlaps.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxWriter } from "../../src/vhdx/write";
import { commitPatch } from "../../src/vhdx/patch";
import { pattern } from "./helpers";

const SIZE = 6 * MiB;

const edit = fc.record({
  offset: fc.integer({ min: 0, max: SIZE - 1 }),
  length: fc.integer({ min: 1, max: 300_000 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});
const op = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), edits: fc.array(edit, { minLength: 1, maxLength: 1 }) }),
  fc.record({ kind: fc.constant("patch" as const), edits: fc.array(edit, { minLength: 1, maxLength: 4 }) }),
);

describe("random writes and patches against a model", () => {
  it("every disk type reads as the model", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("fixed", "dynamic", "differencing"),
        fc.constantFrom(512, 4096),
        fc.array(op, { minLength: 1, maxLength: 8 }),
        async (type, sector, ops) => {
          const parentMem = new MemoryBackend();
          await createImage(parentMem, {
            type: "dynamic",
            virtualSize: SIZE,
            blockSize: MiB,
            logicalSectorSize: sector,
          });
          const model = new Uint8Array(SIZE);
          const parent = await openImage(parentMem, { readOnly: false });
          const pw = new VhdxWriter(parent);
          await pw.write(MiB / 2, pattern(7, 2 * MiB));
          model.set(pattern(7, 2 * MiB), MiB / 2);
          await pw.finish();
          let mem = parentMem;
          if (type !== "dynamic") {
            mem = new MemoryBackend();
            if (type === "fixed") {
              await createImage(mem, { type: "fixed", virtualSize: SIZE, blockSize: MiB, logicalSectorSize: sector });
              model.fill(0);
            } else {
              await createImage(mem, {
                type: "differencing",
                blockSize: MiB,
                parent: parentInfoOf(parent, { relativePath: "p.vhdx" }),
              });
            }
          }
          const img = await openImage(mem, { readOnly: false });
          if (type === "differencing") img.parent = parent;
          const w = new VhdxWriter(img);
          for (const o of ops) {
            const edits = o.edits.map((e) => ({
              offset: e.offset,
              data: pattern(e.seed, Math.min(e.length, SIZE - e.offset)),
            }));
            if (o.kind === "write") await w.write(edits[0].offset, edits[0].data);
            else await commitPatch(w, edits);
            for (const e of edits) model.set(e.data, e.offset);
          }
          expect(Buffer.from(await w.read(0, SIZE)).equals(Buffer.from(model))).toBe(true);
          expect(img.registry.overlaps()).toEqual([]);
          await w.finish();
          const again = await openImage(new MemoryBackend(mem.bytes()));
          if (type === "differencing") again.parent = parent;
          expect(Buffer.from(await again.read(0, SIZE)).equals(Buffer.from(model))).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });
});
