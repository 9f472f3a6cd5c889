import { describe, expect, it } from "vitest";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { MiB } from "../../src/vhdx/bytes";
import { isZeroGuid } from "../../src/vhdx/guid";
import { commitPatch, patchCost } from "../../src/worker/patch";
import type { Session } from "../../src/worker/session";
import type { CallContext } from "../../src/worker/protocol";
import { pattern } from "./helpers";

const ctx: CallContext = { signal: new AbortController().signal, progress: () => undefined };

async function session(): Promise<{ s: Session; mem: MemoryBackend }> {
  const mem = new MemoryBackend();
  await createImage(mem, { type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB });
  const image = await openImage(mem, { readOnly: false });
  const s = { name: "t.vhdx", image, readOnly: false, readOnlyReason: null, backend: mem } as unknown as Session;
  return { s, mem };
}

describe("worker commit methods", () => {
  it("commits a virtual patch and a structure patch, each leaving a clean log", async () => {
    const { s, mem } = await session();
    const patch = [{ space: "virtual" as const, offset: 3000, data: pattern(1, 100) }];
    const cost = await patchCost(s, patch);
    expect(cost).toMatchObject({ space: "virtual", refused: null, blocksAllocated: 1 });
    expect(await commitPatch(ctx, s, patch)).toMatchObject({ blocksAllocated: 1 });
    const again = await openImage(new MemoryBackend(mem.bytes()));
    expect(isZeroGuid(again.header.logGuid)).toBe(true);
    expect(Buffer.from(await again.read(3000, 100)).equals(Buffer.from(pattern(1, 100)))).toBe(true);

    const bad = await patchCost(s, [{ space: "file", offset: 100, data: new Uint8Array(1) }]);
    expect(bad.refused).toMatch(/never written/);
    const id = s.image.metadataTable.entries.find((e) => e.itemId === "beca12ab-b2e6-4523-93ef-c309e000c746")!;
    const newId = new Uint8Array(16).fill(0x42);
    await commitPatch(ctx, s, [{ space: "file", offset: s.image.metadataRegion.fileOffset + id.offset, data: newId }]);
    expect(s.image.params.virtualDiskId).toBe("42424242-4242-4242-4242-424242424242");
  });

  it("refuses a patch mixing virtual and file edits", async () => {
    const { s } = await session();
    await expect(
      commitPatch(ctx, s, [
        { space: "virtual", offset: 0, data: new Uint8Array(1) },
        { space: "file", offset: 2 * MiB, data: new Uint8Array(1) },
      ]),
    ).rejects.toThrow(/not both/);
  });
});
