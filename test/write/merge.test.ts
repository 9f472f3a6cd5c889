import { afterAll, describe, expect, it } from "vitest";
import { openImage } from "../../src/vhdx/image";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openWithParents } from "../../src/node/resolveParent";
import { closeChain } from "../../src/vhdx/chain";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxWriter } from "../../src/vhdx/write";
import { mergeIntoParent } from "../../src/vhdx/merge";
import { commitStructurePatch } from "../../src/vhdx/structurePatch";
import { serializeGuidItem, VIRTUAL_DISK_ID_GUID } from "../../src/vhdx/metadata";
import { differencingChild, dynamicImageWith, hasTool, pattern, qemuCheck, qemuToRaw, tempDir } from "./helpers";
import { readFileSync } from "node:fs";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const SIZE = 10 * MiB;

describe("merge", () => {
  it("folds the child's sectors and IsVirtualDisk metadata into the parent", async () => {
    const base = tmp.path("base.vhdx");
    const child = tmp.path("child.vhdx");
    const model = await dynamicImageWith(base, {
      size: SIZE,
      blockSize: MiB,
      offset: 0,
      data: pattern(1, 4 * MiB),
    });
    await differencingChild(child, base, { blockSize: MiB });
    const newId = "12345678-9abc-4def-8123-456789abcdef";
    {
      const { image, chain } = await openWithParents(child, { readOnly: false });
      const w = new VhdxWriter(image);
      const writes: [number, Uint8Array][] = [
        [1000, pattern(2, 3000)],
        [3 * MiB - 10, pattern(3, 20)],
        [7 * MiB + 1, pattern(4, MiB)],
      ];
      for (const [o, d] of writes) {
        await w.write(o, d);
        model.set(d, o);
      }
      const id = image.metadataTable.entries.find((e) => e.itemId === VIRTUAL_DISK_ID_GUID)!;
      await commitStructurePatch(w, [
        { fileOffset: image.metadataRegion.fileOffset + id.offset, data: serializeGuidItem(newId) },
      ]);
      await w.finish();
      await closeChain(chain);
    }
    const { image: c, chain } = await openWithParents(child);
    const pw = new VhdxWriter(
      await openImage(await NodeFileBackend.open(base, { readOnly: false }), { readOnly: false }),
    );
    const seen: number[] = [];
    const r = await mergeIntoParent(c, pw, { onProgress: (p) => seen.push(p.done) });
    await pw.close();
    await closeChain(chain);
    expect(r.blocksMerged).toBe(5); // blocks 0, 2, 3, 7 and 8
    expect(r.metadataChanged).toBe(true);
    expect(seen[seen.length - 1]).toBe(SIZE);
    const merged = await openImage(await NodeFileBackend.open(base));
    expect(merged.params.virtualDiskId).toBe(newId);
    expect(Buffer.from(await merged.read(0, SIZE)).equals(Buffer.from(model))).toBe(true);
    await merged.close();
    if (hasTool("qemu-img")) {
      expect(qemuCheck(base).out).toMatch(/No errors were found/);
      qemuToRaw(base, base + ".raw");
      expect(readFileSync(base + ".raw").equals(Buffer.from(model))).toBe(true);
    }
    // The parent changed: the child no longer links to it.
    await expect(openWithParents(child)).rejects.toThrow(/DataWriteGuid/);
  });
});
