/**
 * §2.6.1.2 IsVirtualDisk: "When forking, an implementation MUST copy all metadata items with this
 * field set in the existing VHDX file to the new file, while leaving items with this field clear.
 * When merging, an implementation MUST destroy any metadata with this field set in the parent, and
 * copy all metadata with this field set in the child to the parent."
 *
 * A parent gets two items of GUIDs this project does not know: a user item with IsVirtualDisk set
 * (IsRequired clear) and one with IsVirtualDisk clear. Forked by `vhdx create --parent` and by the
 * browser's New image, the child carries the first and not the second; `vhdx merge` puts the
 * child's version of the first back into the parent and keeps the second. qemu-img reads and checks
 * the parent along the way, libvhdi the child (QEMU opens no differencing VHDX).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { vi, describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openImage, type VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { layoutMetadataRegion, metadataRegionEdits, readMetadataItems } from "../../src/vhdx/metadataLayout";
import type { MetadataTableEntry } from "../../src/vhdx/metadata";
import { commitStructurePatch } from "../../src/vhdx/structurePatch";
import { VhdxWriter } from "../../src/vhdx/write";
import { methods } from "../../src/worker/methods";
import { ModelHandle } from "../helpers/modelHandle";
import { runOk } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { vhdiinfo } from "../helpers/vhdi";
import { missingTools, requireTool } from "../helpers/tools";

const VD_ITEM = "5e0c7a4d-3b21-4f6a-9c8e-1d2f3a4b5c6d";
const FILE_ITEM = "7a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9";
const text = (s: string) => new TextEncoder().encode(s);
const tmp = useTempDir("vhdx-fork-metadata-");
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const vhdx = (...args: string[]) => runOk(process.execPath, [BIN, ...args]).stdout;

function entry(itemId: string, isVirtualDisk: boolean): MetadataTableEntry {
  return { itemId, offset: 0, length: 0, isUser: true, isVirtualDisk, isRequired: false };
}

/** Lays out the image's metadata region again with `put` items replaced or added, as one structure patch. */
async function putItems(path: string, put: { entry: MetadataTableEntry; bytes: Uint8Array }[]): Promise<void> {
  const img = await openImage(await NodeFileBackend.open(path, { readOnly: false }), { readOnly: false });
  const w = new VhdxWriter(img);
  const keep = (await readMetadataItems(img)).filter(
    (it) => !put.some((p) => p.entry.itemId === it.entry.itemId && p.entry.isUser === it.entry.isUser),
  );
  await commitStructurePatch(w, await metadataRegionEdits(img, layoutMetadataRegion(img, [...keep, ...put])));
  await w.close();
}

/** The user items of a file, by GUID: flags and text. */
async function userItems(
  img: VhdxImage,
): Promise<Record<string, { isVirtualDisk: boolean; isRequired: boolean; text: string }>> {
  const out: Record<string, { isVirtualDisk: boolean; isRequired: boolean; text: string }> = {};
  for (const it of await readMetadataItems(img)) {
    if (!it.entry.isUser) continue;
    out[it.entry.itemId] = {
      isVirtualDisk: it.entry.isVirtualDisk,
      isRequired: it.entry.isRequired,
      text: new TextDecoder().decode(it.bytes),
    };
  }
  return out;
}

async function userItemsOf(path: string) {
  const img = await openImage(await NodeFileBackend.open(path));
  try {
    return await userItems(img);
  } finally {
    await img.close();
  }
}

function qemuReads(path: string): void {
  const info = JSON.parse(runOk(requireTool("qemu-img"), ["info", "--output=json", path]).stdout) as { format: string };
  expect(info.format).toBe("vhdx");
  runOk(requireTool("qemu-img"), ["check", path]);
}

async function parentWithItems(name: string): Promise<string> {
  const base = tmp.path(name);
  vhdx("create", base, "--size", "8M", "--block-size", "1M");
  await putItems(base, [
    { entry: entry(VD_ITEM, true), bytes: text("disk item, parent's") },
    { entry: entry(FILE_ITEM, false), bytes: text("file item, parent's") },
  ]);
  return base;
}

describe.skipIf(missingTools("qemu-img", "vhdiinfo"))(
  "IsVirtualDisk metadata through fork and merge (§2.6.1.2)",
  () => {
    it("vhdx create --parent copies the IsVirtualDisk items; vhdx merge puts the child's back", async () => {
      const base = await parentWithItems("base.vhdx");
      const child = tmp.path("child.vhdx");
      vhdx("create", child, "--parent", base);
      expect(await userItemsOf(child)).toEqual({
        [VD_ITEM]: { isVirtualDisk: true, isRequired: false, text: "disk item, parent's" },
      });
      // QEMU opens no differencing VHDX ("Operation not supported"); libvhdi reads the child.
      qemuReads(base);
      expect(vhdiinfo(child).diskType).toBe("differential");

      await putItems(child, [{ entry: entry(VD_ITEM, true), bytes: text("disk item, the child's") }]);
      vhdx("merge", child);
      expect(await userItemsOf(base)).toEqual({
        [VD_ITEM]: { isVirtualDisk: true, isRequired: false, text: "disk item, the child's" },
        [FILE_ITEM]: { isVirtualDisk: false, isRequired: false, text: "file item, parent's" },
      });
      qemuReads(base);
    });

    it("the browser's New image (differencing) copies them too, and its merge puts the child's back", async () => {
      vi.stubGlobal("navigator", {}); // no Web Locks in Node
      const base = await parentWithItems("base2.vhdx");
      const out = new ModelHandle("child.vhdx", new Uint8Array(0));
      const ctx = { signal: new AbortController().signal, progress: () => undefined };
      await methods.createNew(
        ctx,
        { type: "differencing", parent: { kind: "file", file: new File([readFileSync(base)], "base2.vhdx") } },
        { kind: "handle", handle: out.handle },
      );
      const img = await openImage(new MemoryBackend(out.bytes));
      expect(await userItems(img)).toEqual({
        [VD_ITEM]: { isVirtualDisk: true, isRequired: false, text: "disk item, parent's" },
      });

      // The browser's merge of that child, its item changed, into the parent.
      const childPath = tmp.path("child2.vhdx");
      writeFileSync(childPath, out.bytes);
      await putItems(childPath, [{ entry: entry(VD_ITEM, true), bytes: text("disk item, the child's") }]);
      const child = new ModelHandle("child2.vhdx", readFileSync(childPath));
      const parent = new ModelHandle("base2.vhdx", readFileSync(base));
      await methods.open(ctx, { kind: "handle", handle: child.handle, writable: true });
      await methods.attachChain(ctx, { kind: "files", files: [{ kind: "handle", handle: parent.handle }] });
      await methods.mergeOpen(ctx, parent.handle);
      await methods.close();
      const merged = await openImage(new MemoryBackend(parent.bytes));
      expect(await userItems(merged)).toEqual({
        [VD_ITEM]: { isVirtualDisk: true, isRequired: false, text: "disk item, the child's" },
        [FILE_ITEM]: { isVirtualDisk: false, isRequired: false, text: "file item, parent's" },
      });
      writeFileSync(base, parent.bytes);
      qemuReads(base);
      vi.unstubAllGlobals();
    });
  },
);
