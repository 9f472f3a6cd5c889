import { describe, expect, it } from "vitest";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxWriter } from "../../src/vhdx/write";
import { commitPatch } from "../../src/vhdx/patch";
import { PAYLOAD_BLOCK_FULLY_PRESENT } from "../../src/vhdx/bat";
import { pattern } from "./helpers";

/** A backend whose every call yields to the event loop, so reads and commits interleave. */
class SlowBackend extends MemoryBackend {
  override async read(offset: number, length: number): Promise<Uint8Array> {
    await new Promise((r) => setImmediate(r));
    return super.read(offset, length);
  }
  override async write(offset: number, data: Uint8Array): Promise<void> {
    await new Promise((r) => setImmediate(r));
    return super.write(offset, data);
  }
  override async flush(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    return super.flush();
  }
}

async function setup(): Promise<{ w: VhdxWriter; mem: SlowBackend }> {
  const mem0 = new MemoryBackend();
  await createImage(mem0, { type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB });
  const mem = new SlowBackend(mem0.bytes());
  return { w: new VhdxWriter(await openImage(mem, { readOnly: false })), mem };
}

describe("concurrency", () => {
  it("reads running alongside patch commits see each patch entirely or not at all", async () => {
    const { w } = await setup();
    await w.write(0, pattern(1, 3 * MiB));
    const states: Buffer[] = [Buffer.from(await w.read(0, 3 * MiB))];
    const patches = [0, 1, 2].map((i) => [
      { offset: 100 + i, data: pattern(10 + i, 50) },
      { offset: 2 * MiB + 7 * i, data: pattern(20 + i, 70) },
    ]);
    for (const p of patches) {
      const next = Buffer.from(states[states.length - 1]);
      for (const e of p) next.set(e.data, e.offset);
      states.push(next);
    }
    const commits = (async () => {
      for (const p of patches) await commitPatch(w, p);
    })();
    let reads = 0;
    let done = false;
    void commits.then(() => (done = true));
    const readers = [0, 1, 2].map(async () => {
      while (!done) {
        const got = Buffer.from(await w.read(0, 3 * MiB));
        expect(states.some((s) => s.equals(got))).toBe(true);
        reads++;
      }
    });
    await Promise.all([commits, ...readers]);
    expect(reads).toBeGreaterThan(3);
    expect(Buffer.from(await w.read(0, 3 * MiB)).equals(states[states.length - 1])).toBe(true);
  });

  it("concurrent writes to one unallocated block are serialised: one allocation, every write kept", async () => {
    const { w } = await setup();
    const writes = Array.from({ length: 8 }, (_, i) => ({ offset: 5 * MiB + i * 10_000, data: pattern(30 + i, 5000) }));
    await Promise.all(writes.map((x) => w.write(x.offset, x.data)));
    expect(w.image.blockLocation(5).state).toBe(PAYLOAD_BLOCK_FULLY_PRESENT);
    let blocks = 0;
    for (const e of w.image.registry.extents()) if (e.kind === "payload-block") blocks++;
    expect(blocks).toBe(1);
    for (const x of writes)
      expect(Buffer.from(await w.read(x.offset, x.data.length)).equals(Buffer.from(x.data))).toBe(true);
  });
});
