import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openWithParents, parentLocatorPaths, localParentPath } from "../../src/node/resolveParent";
import { attachParents, closeChain } from "../../src/vhdx/chain";
import { MemoryBackend } from "../../src/vhdx/io";
import { serializeParentLocator, VHDX_PARENT_LOCATOR_TYPE } from "../../src/vhdx/parentLocator";
import { PARENT_LOCATOR_GUID } from "../../src/vhdx/metadata";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxError } from "../../src/vhdx/errors";
import { VhdxWriter } from "../../src/vhdx/write";
import { differencingChild, hasTool, pattern, tempDir, vhdiinfo } from "./helpers";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const SIZE = 12 * MiB;

async function makeBase(path: string): Promise<void> {
  const f = await NodeFileBackend.open(path, { readOnly: false, create: "overwrite" });
  await createImage(f, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
  await f.close();
}

/** A differencing child over `parentPath`, 1 MiB blocks, linked to it as it is now. */
function makeChild(path: string, parentPath: string, paths?: { relativePath?: string; absoluteWin32Path?: string }) {
  return differencingChild(path, parentPath, { blockSize: MiB, ...paths });
}

async function writeAll(path: string, writes: [number, Uint8Array][], model: Uint8Array): Promise<void> {
  const { image, chain } = await openWithParents(path, { readOnly: false });
  const w = new VhdxWriter(image);
  for (const [off, data] of writes) {
    await w.write(off, data);
    model.set(data, off);
  }
  await w.finish();
  await closeChain(chain);
}

describe("differencing chains", () => {
  it("a three-level chain reads as the base overlaid with each child's writes, after moving the tree", async () => {
    const root = tmp.path("tree");
    mkdirSync(join(root, "a", "b"), { recursive: true });
    const base = join(root, "base.vhdx");
    const child = join(root, "a", "child.vhdx");
    const grand = join(root, "a", "b", "grand.vhdx");
    const model = new Uint8Array(SIZE);
    await makeBase(base);
    await writeAll(
      base,
      [
        [0, pattern(1, 3 * MiB)],
        [7 * MiB + 3, pattern(2, 2 * MiB)],
      ],
      model,
    );
    await makeChild(child, base);
    await writeAll(
      child,
      [
        [100, pattern(3, 1000)],
        [MiB - 7, pattern(4, 20)],
        [9 * MiB, pattern(5, 4096)],
      ],
      model,
    );
    await makeChild(grand, child);
    await writeAll(
      grand,
      [
        [513, pattern(6, 511)],
        [2 * MiB, pattern(7, MiB + 5)],
        [11 * MiB + 4000, pattern(8, 100)],
      ],
      model,
    );
    // Moving the whole tree breaks absolute paths; relative_path still finds every parent.
    const moved = tmp.path("moved");
    renameSync(root, moved);
    const { image, chain } = await openWithParents(join(moved, "a", "b", "grand.vhdx"));
    expect(chain.length).toBe(3);
    expect(Buffer.from(await image.read(0, SIZE)).equals(Buffer.from(model))).toBe(true);
    await closeChain(chain);
  });

  it("falls back to absolute_win32_path when relative_path leads nowhere", async () => {
    const base = tmp.path("abs-base.vhdx");
    const child = tmp.path("abs-child.vhdx");
    const model = new Uint8Array(SIZE);
    await makeBase(base);
    await writeAll(base, [[5000, pattern(9, 10_000)]], model);
    const paths = parentLocatorPaths(child, base);
    // Written as Hyper-V writes an extended-length path: "\\?\" then the path, no separator doubled.
    expect(paths.absoluteWin32Path).toMatch(/^\\\\\?\\[^\\]/);
    expect(paths.absoluteWin32Path.slice(2)).not.toContain("\\\\");
    await makeChild(child, base, { relativePath: "nowhere\\x.vhdx", absoluteWin32Path: paths.absoluteWin32Path });
    const { image, chain } = await openWithParents(child);
    expect(Buffer.from(await image.read(0, 20_000)).equals(Buffer.from(model.subarray(0, 20_000)))).toBe(true);
    await closeChain(chain);
    // A child an earlier version made, with the root's separator doubled ("\\?\\tmp\…"), still opens.
    const old = tmp.path("abs-old-child.vhdx");
    await makeChild(old, base, {
      relativePath: "nowhere\\x.vhdx",
      absoluteWin32Path: "\\\\?\\" + base.split("/").join("\\"),
    });
    const opened = await openWithParents(old);
    expect(Buffer.from(await opened.image.read(0, 20_000)).equals(Buffer.from(model.subarray(0, 20_000)))).toBe(true);
    await closeChain(opened.chain);
  });

  it("refuses a parent whose DataWriteGuid changed, naming both GUIDs, unless forced", async () => {
    const base = tmp.path("mm-base.vhdx");
    const child = tmp.path("mm-child.vhdx");
    await makeBase(base);
    await makeChild(child, base);
    const model = new Uint8Array(SIZE);
    await writeAll(base, [[0, pattern(10, 10)]], model); // a new session renews the parent's DataWriteGuid
    const err = (await openWithParents(child).catch((e) => e)) as VhdxError;
    expect(err).toBeInstanceOf(VhdxError);
    expect(err.code).toBe("PARENT_MISMATCH");
    expect(err.message.match(/\{[0-9a-f-]{36}\}/g)?.length).toBe(2);
    const { image, chain } = await openWithParents(child, { force: true });
    expect(image.warnings.some((w) => w.code === "PARENT_MISMATCH")).toBe(true);
    expect(Buffer.from(await image.read(0, 10)).equals(Buffer.from(pattern(10, 10)))).toBe(true);
    await closeChain(chain);
  });

  it("detects a cycle and limits the depth", async () => {
    const x = tmp.path("cyc-x.vhdx");
    const y = tmp.path("cyc-y.vhdx");
    await makeBase(x);
    await makeChild(y, x);
    await makeChild(x + ".tmp", y); // a differencing image of y ...
    renameSync(x + ".tmp", x); // ... now sits where y's parent was
    const err = (await openWithParents(y, { force: true }).catch((e) => e)) as VhdxError;
    expect(err.code).toBe("CHAIN_INVALID");
    expect(err.message).toMatch(/loops back/);

    const d0 = tmp.path("d0.vhdx");
    await makeBase(d0);
    let prev = d0;
    for (let i = 1; i <= 3; i++) {
      const cur = tmp.path(`d${i}.vhdx`);
      await makeChild(cur, prev);
      prev = cur;
    }
    const deep = (await openWithParents(prev, { maxDepth: 2 }).catch((e) => e)) as VhdxError;
    expect(deep.code).toBe("CHAIN_INVALID");
    const ok = await openWithParents(prev, { maxDepth: 3 });
    expect(ok.chain.length).toBe(4);
    await closeChain(ok.chain);
  });

  it("reports every path it tried when the parent is missing", async () => {
    const base = tmp.path("gone-base.vhdx");
    const child = tmp.path("gone-child.vhdx");
    await makeBase(base);
    await makeChild(child, base);
    renameSync(base, base + ".away");
    const err = (await openWithParents(child).catch((e) => e)) as VhdxError;
    expect(err.code).toBe("PARENT_NOT_FOUND");
    expect(err.message).toMatch(/relative_path.*absolute_win32_path/);
  });

  it("maps locator paths to local paths", () => {
    expect(localParentPath("relative_path", "..\\..\\p\\parent.vhdx", "/d/path1/sub2/file.vhdx")).toBe(
      "/d/p/parent.vhdx",
    );
    // The form written now, and the doubled one earlier versions wrote: both name /srv/vm/p.vhdx.
    expect(localParentPath("absolute_win32_path", "\\\\?\\srv\\vm\\p.vhdx", "/x/c.vhdx")).toBe("/srv/vm/p.vhdx");
    expect(localParentPath("absolute_win32_path", "\\\\?\\\\srv\\vm\\p.vhdx", "/x/c.vhdx")).toBe("/srv/vm/p.vhdx");
    expect(localParentPath("absolute_win32_path", "\\\\?\\d:\\path2\\parent.vhdx", "/x/c.vhdx")).toBe(null);
    expect(parentLocatorPaths("/vms/a/b/c.vhdx", "/vms/base.vhdx")).toEqual({
      relativePath: "..\\..\\base.vhdx",
      absoluteWin32Path: "\\\\?\\vms\\base.vhdx",
    });
  });

  it.skipIf(!hasTool("vhdiinfo"))(
    "libvhdi reads a created differencing image: type, size, parent identifier",
    async () => {
      const base = tmp.path("vi-base.vhdx");
      const child = tmp.path("vi-child.vhdx");
      await makeBase(base);
      await makeChild(child, base);
      const p = await openImage(await NodeFileBackend.open(base));
      const out = vhdiinfo(child);
      expect(out).toMatch(/Disk type\s*:\s*Differential/);
      expect(out).toMatch(new RegExp(`Media size\\s*:.*\\(${SIZE} bytes\\)`));
      expect(out).toMatch(new RegExp(`Parent identifier\\s*:\\s*${p.header.dataWriteGuid}`));
      await p.close();
    },
  );

  it("tries relative_path, then volume_path, then absolute_win32_path, and accepts parent_linkage2", async () => {
    const parentMem = new MemoryBackend();
    await createImage(parentMem, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
    const parent = await openImage(parentMem);
    const childMem = new MemoryBackend();
    await createImage(childMem, {
      type: "differencing",
      blockSize: MiB,
      parent: {
        dataWriteGuid: "11111111-2222-4333-8444-555555555555",
        virtualDiskSize: SIZE,
        virtualDiskId: parent.params.virtualDiskId,
        logicalSectorSize: 512,
        physicalSectorSize: 4096,
        relativePath: "r",
      },
    });
    // Rewrite the locator in place: a stale parent_linkage, the real one as parent_linkage2, all three paths.
    const child0 = await openImage(childMem);
    const pl = child0.metadataTable.entries.find((e) => e.itemId === PARENT_LOCATOR_GUID)!;
    const item = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, [
      ["parent_linkage", "{11111111-2222-4333-8444-555555555555}"],
      ["parent_linkage2", `{${parent.header.dataWriteGuid}}`],
      ["absolute_win32_path", "a"],
      ["volume_path", "v"],
      ["relative_path", "r"],
    ]);
    await childMem.write(child0.metadataRegion.fileOffset + pl.offset, item);
    const table = new Uint8Array(await childMem.read(child0.metadataRegion.fileOffset, 64 * 1024));
    const dv = new DataView(table.buffer);
    const index = child0.metadataTable.entries.indexOf(pl);
    dv.setUint32(32 + index * 32 + 20, item.length, true);
    await childMem.write(child0.metadataRegion.fileOffset, table);
    const child = await openImage(childMem);
    const tried: string[] = [];
    const chain = await attachParents(child, "child", {
      resolve: async (key, value) => {
        tried.push(`${key}=${value}`);
        return key === "absolute_win32_path" ? { io: new MemoryBackend(parentMem.bytes()), location: "parent" } : null;
      },
    });
    expect(tried).toEqual(["relative_path=r", "volume_path=v", "absolute_win32_path=a"]);
    expect(chain.length).toBe(2);
    expect(child.warnings.some((w) => w.code === "PARENT_MISMATCH")).toBe(false);
  });
});
