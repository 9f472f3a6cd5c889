/**
 * §2.6.2.6.3 "Upon successful open of a chain, an implementation has to update any existing stale
 * path entries": a differencing image and its parent are created by `vhdx create`, moved, and
 * opened again. A writable open rewrites the stale paths (and only those); a read-only open never
 * writes. The result is read back by our parser, by libvhdi (vhdiinfo) and by `vhdx check`.
 */
import { afterAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openWithParents, parentLocatorPaths } from "../../src/node/resolveParent";
import { closeChain } from "../../src/vhdx/chain";
import { openImage } from "../../src/vhdx/image";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { locatorValue } from "../../src/vhdx/parentLocator";
import { serializeParentLocator, VHDX_PARENT_LOCATOR_TYPE } from "../../src/vhdx/parentLocator";
import { PARENT_LOCATOR_GUID } from "../../src/vhdx/metadata";
import { hasTool, pattern, qemuCheck, run, tempDir, vhdiinfo } from "./helpers";

const tmp = tempDir("vhdx-locator-");
afterAll(() => tmp.cleanup());
const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;
const SIZE = 8 * MiB;

function vhdx(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return run(process.execPath, [VHDX, ...args]);
}

function ok(args: string[]): string {
  const r = vhdx(args);
  if (r.status !== 0) throw new Error(`vhdx ${args.join(" ")} → ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A parent with data and a child with its own writes, in `dir/vms/`, made by the CLI. */
function makePair(dir: string): { parent: string; child: string } {
  mkdirSync(join(dir, "vms"), { recursive: true });
  const parent = join(dir, "vms", "parent.vhdx");
  const child = join(dir, "vms", "child.vhdx");
  const input = join(dir, "in.bin");
  ok(["create", parent, "--size", "8M", "--block-size", "1M"]);
  writeFileSync(input, pattern(1, 3 * MiB));
  ok(["write", parent, "--offset", "0", "--input", input]);
  ok(["create", child, "--type", "differencing", "--parent", parent, "--block-size", "1M"]);
  writeFileSync(input, pattern(2, 5000));
  ok(["write", child, "--offset", String(MiB + 100), "--input", input]);
  return { parent, child };
}

/** The child's locator, its header GUIDs and its virtual disk through the chain, read-only. */
async function readBack(child: string) {
  const { image, chain } = await openWithParents(child);
  const pl = image.params.parentLocator!;
  const out = {
    relative: locatorValue(pl, "relative_path"),
    absolute: locatorValue(pl, "absolute_win32_path"),
    linkage: locatorValue(pl, "parent_linkage"),
    dataWriteGuid: image.header.dataWriteGuid,
    fileWriteGuid: image.header.fileWriteGuid,
    disk: await image.read(0, SIZE),
  };
  await closeChain(chain);
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

describe("stale parent locator paths", () => {
  it("a pair moved together: the writable open rewrites absolute_win32_path only; readers agree", async () => {
    const { child: child0, parent: parent0 } = makePair(tmp.path("a"));
    const original = await readBack(child0);
    expect(original.relative).toBe("parent.vhdx");
    expect(original.absolute).toBe(parentLocatorPaths(child0, parent0).absoluteWin32Path);
    // Moved into a deeper, longer folder; a copy of the parent stays at the old place.
    mkdirSync(tmp.path("b/rescued from the old host"), { recursive: true });
    renameSync(tmp.path("a/vms"), tmp.path("b/rescued from the old host/vms"));
    mkdirSync(dirname(parent0));
    copyFileSync(tmp.path("b/rescued from the old host/vms/parent.vhdx"), parent0);
    const child = tmp.path("b/rescued from the old host/vms/child.vhdx");
    const parent = tmp.path("b/rescued from the old host/vms/parent.vhdx");

    // Read-only opens, ours and the CLI's, leave the stale file exactly as it is.
    const stale = readFileSync(child);
    const ro = await openWithParents(child);
    expect(ro.locatorUpdates).toEqual([]);
    await closeChain(ro.chain);
    ok(["info", child]);
    ok(["check", child]);
    expect(same(readFileSync(child), stale)).toBe(true);

    const parentBytes = readFileSync(parent);
    const { chain, locatorUpdates } = await openWithParents(child, { readOnly: false });
    await closeChain(chain);
    const fresh = parentLocatorPaths(child, parent);
    expect(locatorUpdates).toEqual([
      { key: "absolute_win32_path", from: original.absolute, to: fresh.absoluteWin32Path },
    ]);
    expect(fresh.absoluteWin32Path).toBe("\\\\?\\" + parent.slice(1).split("/").join("\\"));

    const after = await readBack(child);
    expect(after.absolute).toBe(fresh.absoluteWin32Path);
    expect(after.relative).toBe("parent.vhdx");
    expect(after.linkage).toBe(original.linkage);
    expect(after.dataWriteGuid).toBe(original.dataWriteGuid);
    expect(after.fileWriteGuid).not.toBe(original.fileWriteGuid);
    expect(same(after.disk, original.disk)).toBe(true);
    expect(same(readFileSync(parent), parentBytes)).toBe(true);
    expect(vhdx(["check", child]).status).toBe(0);
    if (hasTool("vhdiinfo")) {
      const out = vhdiinfo(child);
      expect(out).toMatch(/Disk type\s*:\s*Differential/);
      expect(out).toContain(`Parent filename\t\t: ${fresh.absoluteWin32Path}`);
    }
    // QEMU 7.2 opens no differencing VHDX at all; it checks the parent, which was never written.
    if (hasTool("qemu-img")) expect(qemuCheck(parent).status).toBe(0);

    // Nothing stale any more: a second writable open writes nothing.
    const settled = readFileSync(child);
    const again = await openWithParents(child, { readOnly: false });
    expect(again.locatorUpdates).toEqual([]);
    await closeChain(again.chain);
    expect(same(readFileSync(child), settled)).toBe(true);
  });

  it("a child moved alone into a subfolder: relative_path is rewritten with \\ separators, `vhdx write` says so on stderr", async () => {
    const { child: child0 } = makePair(tmp.path("c"));
    const original = await readBack(child0);
    mkdirSync(tmp.path("c/vms/diffs/2026"), { recursive: true });
    const child = tmp.path("c/vms/diffs/2026/child.vhdx");
    renameSync(child0, child);
    const input = tmp.path("c/more.bin");
    writeFileSync(input, pattern(3, 700));
    const r = vhdx(["write", child, "--offset", String(6 * MiB + 3), "--input", input]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      `vhdx: ${child}: parent locator relative_path updated from "parent.vhdx" to "..\\..\\parent.vhdx"\n`,
    );
    const after = await readBack(child);
    expect(after.relative).toBe("..\\..\\parent.vhdx");
    expect(after.absolute).toBe(original.absolute);
    expect(after.linkage).toBe(original.linkage);
    const model = original.disk.slice();
    model.set(pattern(3, 700), 6 * MiB + 3);
    expect(same(after.disk, model)).toBe(true);
    expect(vhdx(["check", child]).status).toBe(0);
    if (hasTool("vhdiinfo")) expect(vhdiinfo(child)).toContain(`Parent filename\t\t: ${after.absolute}`);
    // The rewritten relative path alone finds the parent once the absolute one names nothing.
    renameSync(tmp.path("c/vms"), tmp.path("c/vms2"));
    const moved = await readBack(tmp.path("c/vms2/diffs/2026/child.vhdx"));
    expect(same(moved.disk, model)).toBe(true);
  });

  it("paths this system cannot judge (a drive letter) are left alone", async () => {
    const { child } = makePair(tmp.path("d"));
    // The locator as a Windows host writes it: relative_path that resolves here, a drive-letter absolute path.
    const img = await openImage(await NodeFileBackend.open(child));
    const index = img.metadataTable.entries.findIndex((e) => e.itemId === PARENT_LOCATOR_GUID);
    const linkage = locatorValue(img.params.parentLocator!, "parent_linkage")!;
    const windows = "\\\\?\\D:\\Hyper-V\\parent.vhdx";
    const item = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, [
      ["parent_linkage", linkage],
      ["relative_path", ".\\parent.vhdx"],
      ["absolute_win32_path", windows],
    ]);
    const at = img.metadataRegion.fileOffset + img.metadataTable.entries[index].offset;
    const entryLength = img.metadataRegion.fileOffset + 32 + index * 32 + 20;
    await img.close();
    const f = await NodeFileBackend.open(child, { readOnly: false });
    await f.write(at, item);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, item.length, true);
    await f.write(entryLength, len);
    await f.close();
    const before = readFileSync(child);
    const { chain, locatorUpdates } = await openWithParents(child, { readOnly: false });
    await closeChain(chain);
    expect(locatorUpdates).toEqual([]);
    expect(same(readFileSync(child), before)).toBe(true);
    const after = await readBack(child);
    expect(after.absolute).toBe(windows);
    expect(after.relative).toBe(".\\parent.vhdx");
  });
});
