import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxWriter } from "../../src/vhdx/write";
import { patternBytes } from "../helpers/random";
import { useTempDir } from "../helpers/tmp";

const tmp = useTempDir();

describe("VhdxImage.segments with reused buffers", () => {
  it("streams the same bytes as read(), pieces valid until the next one is asked for", async () => {
    // 16 MiB dynamic image, 1 MiB blocks: blocks 0, 1, 5, 6, 7 and 15 written, the rest unallocated.
    const path = tmp.path("seg.vhdx");
    writeFileSync(path, new Uint8Array(0));
    const out = await NodeFileBackend.open(path, { readOnly: false });
    await createImage(out, { type: "dynamic", virtualSize: 16 * MiB, blockSize: MiB });
    const img = await openImage(out, { readOnly: false });
    const w = new VhdxWriter(img);
    await w.write(0, patternBytes(1, 2 * MiB));
    await w.write(5 * MiB + 7, patternBytes(2, 3 * MiB - 7));
    await w.write(15 * MiB, patternBytes(3, MiB));
    await w.close();

    const file = await NodeFileBackend.open(path);
    const ro = await openImage(file);
    try {
      const want = await ro.read(0, ro.virtualSize);
      const got = new Uint8Array(ro.virtualSize);
      const buffers = new Set<ArrayBufferLike>();
      let at = 0;
      for await (const piece of ro.segments(0, ro.virtualSize, { chunk: MiB, parallel: 2, reuse: true })) {
        got.set(piece, at); // copied now: the buffer serves a later read
        at += piece.length;
        buffers.add(piece.buffer);
      }
      expect(at).toBe(ro.virtualSize);
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      // Six data blocks went through at most parallel + 1 buffers, plus the shared zero buffer.
      expect(buffers.size).toBeLessThanOrEqual(4);
      // Without reuse every data piece has a buffer of its own.
      const fresh = new Set<ArrayBufferLike>();
      for await (const piece of ro.segments(0, ro.virtualSize, { chunk: MiB, parallel: 2 })) fresh.add(piece.buffer);
      expect(fresh.size).toBeGreaterThan(buffers.size);
    } finally {
      await ro.close();
    }
  });
});
