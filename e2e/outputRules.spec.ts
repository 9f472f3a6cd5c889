/**
 * The worker's rules for every job that writes a file, called through the typed client on the
 * harness page (no UI in the way): no job writes onto the open image, its parents or its own
 * input (FILE_IN_USE), none replaces a file in browser storage without `replace` (FILE_EXISTS),
 * and a cancelled job leaves the file it would have replaced whole, with nothing partial behind.
 * Files are made by qemu-img and `vhdx create`; what is compared is the bytes before and after.
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromOpfs } from "./opfsFiles";
import { load, MiB, qemuImage, sha256, useTempDir } from "./storageHelpers";

test.setTimeout(180_000);
const tempDir = useTempDir("vhdx-e2e-rules-");

test("toolbox jobs, import, save and remove: FILE_IN_USE and FILE_EXISTS, and a cancelled replace keeps the old file", async ({
  page,
}) => {
  const loose = qemuImage(tempDir(), "loose.vhdx", "32M", [
    [0x33, "9M", "1M"],
    [0x00, "0", "4M"],
  ]);
  const other = qemuImage(tempDir(), "other.vhdx", "8M", [[0x44, "0", "1M"]]);
  const raw = join(tempDir(), "disk.img");
  const bytes = Buffer.alloc(64 * MiB);
  for (let at = 0; at < bytes.length; at += MiB) bytes.fill(at / MiB + 1, at, at + 4096);
  writeFileSync(raw, bytes);
  await load(page, { "loose.vhdx": loose, "other.vhdx": other, "disk.img": raw });
  const r = await page.evaluate(async () => {
    const h = window.harness;
    const engine = h.createEngineClient();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "done",
        (e: Error & { code?: string }) => e.code ?? e.message,
      );
    await h.putOpfs("a.vhdx", "/__fixtures/loose.vhdx");
    await h.putOpfs("toolbox/existing.vhdx", "/__fixtures/other.vhdx");
    await h.putOpfs("disk.img", "/__fixtures/disk.img");
    const before = { a: await h.opfsSha256("a.vhdx"), existing: await h.opfsSha256("toolbox/existing.vhdx") };
    await engine.open({ kind: "opfs", path: "a.vhdx", writable: true });
    const a = await h.opfsHandle("a.vhdx");
    const img = await h.opfsHandle("disk.img");
    const out: Record<string, string> = {};
    // Onto the open image: refused whether in browser storage (even with replace) or as a picked file.
    out.compactOntoOpen = await code(
      engine.compact({ type: "dynamic" }, { kind: "opfs", path: "a.vhdx", replace: true }),
    );
    out.rawOntoOpen = await code(engine.convertOpenToRaw({ kind: "handle", handle: a }));
    out.newOntoOpen = await code(
      engine.createNew({ type: "dynamic", virtualSize: 8 * 2 ** 20 }, { kind: "handle", handle: a }),
    );
    out.saveAsOntoOpen = await code(engine.saveAs({ kind: "handle", handle: a }));
    out.saveBackOntoOpen = await code(engine.saveBack(a));
    out.removeOpen = await code(engine.storageRemove("a.vhdx"));
    // Onto its own input.
    out.rawOntoInput = await code(
      engine.convertRaw({ kind: "handle", handle: img }, { type: "dynamic" }, { kind: "handle", handle: img }),
    );
    // Onto an existing file without agreeing to replace it.
    const existing = { kind: "opfs" as const, path: "toolbox/existing.vhdx" };
    out.compactExisting = await code(engine.compact({ type: "dynamic" }, existing));
    out.newExisting = await code(engine.createNew({ type: "dynamic", virtualSize: 8 * 2 ** 20 }, existing));
    out.rawExisting = await code(engine.convertRaw({ kind: "handle", handle: img }, { type: "dynamic" }, existing));
    out.importExisting = await code(engine.importToOpfs({ kind: "handle", handle: img }, "toolbox/existing.vhdx"));
    // Agreed to replace, then cancelled half-way: the old file is whole, nothing partial is left.
    const job = engine.convertRaw(
      { kind: "handle", handle: img },
      { type: "dynamic", blockSize: 2 ** 20 },
      {
        ...existing,
        replace: true,
      },
    );
    let reports = 0;
    job.onProgress(() => {
      if (++reports === 3) job.cancel();
    });
    out.cancelledReplace = await code(job);
    const afterCancel = await h.opfsSha256("toolbox/existing.vhdx");
    const leftovers = (await engine.storageList()).files.map((f) => f.path);
    // A unique name instead of the taken one.
    const unique = await engine.importToOpfs({ kind: "handle", handle: img }, "toolbox/existing.vhdx", {
      unique: true,
    });
    const check = await engine.outputCheck("toolbox/existing.vhdx");
    const listing = await engine.storageList();
    // Agreed to replace, completed: the new file has the name.
    const replaced = await engine.compact({ type: "dynamic" }, { ...existing, replace: true });
    const afterReplace = await h.opfsSha256("toolbox/existing.vhdx");
    const removed = await code(engine.storageRemove("toolbox/existing (2).vhdx"));
    const finalNames = (await engine.storageList()).files.map((f) => f.path);
    const aAfter = await h.opfsSha256("a.vhdx");
    await engine.close();
    engine.terminate();
    return {
      before,
      out,
      afterCancel,
      leftovers,
      unique: unique.path,
      check,
      listing: listing.files.map((f) => ({ path: f.path, inUse: f.inUse, size: f.size })),
      estimate: [listing.usage, listing.quota],
      replaced: replaced.target,
      afterReplace,
      removed,
      finalNames,
      aAfter,
    };
  });
  expect(r.out).toEqual({
    compactOntoOpen: "FILE_IN_USE",
    rawOntoOpen: "FILE_IN_USE",
    newOntoOpen: "FILE_IN_USE",
    saveAsOntoOpen: "FILE_IN_USE",
    saveBackOntoOpen: "FILE_IN_USE",
    removeOpen: "FILE_IN_USE",
    rawOntoInput: "FILE_IN_USE",
    compactExisting: "FILE_EXISTS",
    newExisting: "FILE_EXISTS",
    rawExisting: "FILE_EXISTS",
    importExisting: "FILE_EXISTS",
    cancelledReplace: "CANCELLED",
  });
  expect(r.aAfter).toBe(r.before.a);
  expect(r.afterCancel).toBe(r.before.existing);
  expect(r.leftovers).toEqual(["a.vhdx", "disk.img", "toolbox/existing.vhdx"]);
  expect(r.unique).toBe("toolbox/existing (2).vhdx");
  expect(r.check).toMatchObject({ exists: true, inUse: null, suggestion: "toolbox/existing (3).vhdx" });
  expect(r.listing).toEqual([
    { path: "a.vhdx", inUse: "it is open in the editor", size: statSync(loose).size },
    { path: "disk.img", inUse: null, size: 64 * MiB },
    { path: "toolbox/existing (2).vhdx", inUse: null, size: 64 * MiB },
    { path: "toolbox/existing.vhdx", inUse: null, size: expect.any(Number) },
  ]);
  expect(r.estimate[0]).toBeGreaterThan(0);
  expect(r.estimate[1]).toBeGreaterThan(r.estimate[0]!);
  expect(r.replaced).toEqual({ kind: "opfs", path: "toolbox/existing.vhdx" });
  expect(r.afterReplace).not.toBe(r.before.existing);
  expect(r.removed).toBe("done");
  expect(r.finalNames).toEqual(["a.vhdx", "disk.img", "toolbox/existing.vhdx"]);
  // The replaced file is the compacted open image: it reads as the source in QEMU.
  const compacted = join(tempDir(), "compacted.vhdx");
  await fromOpfs(page, "toolbox/existing.vhdx", compacted);
  expect(sha256(readFileSync(compacted))).toBe(r.afterReplace);
  execFileSync("qemu-img", ["compare", "-f", "vhdx", "-F", "vhdx", compacted, loose]);
});

test("Write file… refuses the open image's own file as its input; merge refuses the child as its own parent", async ({
  page,
}) => {
  const base = qemuImage(tempDir(), "wf-base.vhdx", "64M", [[0x21, "0", "1M"]]);
  const child = join(tempDir(), "wf-child.vhdx");
  execFileSync("node", ["bin/vhdx.cjs", "create", child, "--parent", base, "--block-size", "1M"]);
  await load(page, { "base.vhdx": base, "child.vhdx": child });
  const r = await page.evaluate(async () => {
    const h = window.harness;
    const engine = h.createEngineClient();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "done",
        (e: Error & { code?: string }) => e.code ?? e.message,
      );
    await h.putOpfs("base.vhdx", "/__fixtures/base.vhdx");
    await h.putOpfs("child.vhdx", "/__fixtures/child.vhdx");
    const baseHandle = await h.opfsHandle("base.vhdx");
    const childHandle = await h.opfsHandle("child.vhdx");
    const before = await h.opfsSha256("base.vhdx");
    await engine.open({ kind: "handle", handle: childHandle, writable: true });
    await engine.attachChain({ kind: "files", files: [{ kind: "handle", handle: baseHandle }] });
    const mergeSelf = await code(engine.mergeOpen(childHandle));
    const ontoParent = await code(engine.compact({ type: "dynamic" }, { kind: "handle", handle: baseHandle }));
    const removeParent = await code(engine.storageRemove("base.vhdx"));
    const listing = (await engine.storageList()).files.map((f) => [f.path, f.inUse]);
    const parentAfter = await h.opfsSha256("base.vhdx");
    await engine.open({ kind: "handle", handle: baseHandle, writable: true });
    const own = await code(engine.writeFile(0, await baseHandle.getFile()));
    // Another file of the same name and size but another last change is not the open one.
    const copy = new File([await (await baseHandle.getFile()).arrayBuffer()], "base.vhdx", { lastModified: 1 });
    const other = await code(engine.writeFile(0, new File([copy.slice(0, 4096)], "base.vhdx")));
    await engine.close();
    engine.terminate();
    return { own, other, mergeSelf, ontoParent, removeParent, listing, before, parentAfter };
  });
  expect(r).toMatchObject({
    own: "FILE_IN_USE",
    other: "done",
    mergeSelf: "FILE_IN_USE",
    ontoParent: "FILE_IN_USE",
    removeParent: "FILE_IN_USE",
  });
  expect(r.listing).toEqual([
    ["base.vhdx", "it is a parent of the image open in the editor"],
    ["child.vhdx", "it is open in the editor"],
  ]);
  expect(r.parentAfter).toBe(r.before);
});
