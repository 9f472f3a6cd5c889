/**
 * The engine worker's storage backends in real Chromium: each round-trips bytes against images
 * made by qemu-img, handed to the page through OPFS (or a file input for the File path). Writes go
 * through the worker; the bytes are read back in Node and checked with qemu-img.
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { fromOpfs } from "./opfsFiles";
import { load, MiB, qemuImage as makeImage, qemuVirtual, sha256, useTempDir } from "./storageHelpers";

const tempDir = useTempDir("vhdx-e2e-storage-");
const qemuImage = (name: string, size: string, writes: Parameters<typeof makeImage>[3]) =>
  makeImage(tempDir(), name, size, writes);

test("File backend: opens a 100 GiB file reading only its structures, virtual bytes match qemu-img", async ({
  page,
}) => {
  const p = qemuImage("big.vhdx", "100G", [
    [0xa1, "0", "1M"],
    [0xb2, "50G", "64k"],
    [0xc3, String(100 * 1024 * MiB - MiB), "1M"],
  ]);
  const [head, mid] = qemuVirtual(p, [0, 64 * 1024], [50 * 1024 * MiB - 4096, 8192]);
  const expected = { head: head.toString("base64"), mid: [...mid] };
  // The file itself is 100 GiB (sparse on disk): trailing space after the last structure is allowed.
  truncateSync(p, 100 * 1024 * MiB);
  await load(page);
  await page.locator("#file").setInputFiles(p);
  const r = await page.evaluate(async () => {
    const h = window.harness;
    const engine = h.createEngineClient();
    const opened = await engine.open({ kind: "file", file: h.inputFile() });
    const head = h.toBase64(await engine.read("virtual", 0, 64 * 1024));
    const mid = [...(await engine.read("virtual", 50 * 1024 ** 3 - 4096, 8192))];
    const tail = await engine.read("virtual", 100 * 1024 ** 3 - 4096, 4096);
    const words = await engine.batWords();
    const stats = await engine.stats();
    await engine.close();
    engine.terminate();
    return {
      opened: { readOnly: opened.readOnly, reason: opened.readOnlyReason, backend: opened.backend, info: opened.info },
      head,
      mid,
      tail: [tail[0], tail[4095]],
      words: words.length,
      stats,
    };
  });
  expect(r.opened.backend).toBe("blob");
  expect(r.opened.readOnly).toBe(true);
  expect(r.opened.reason).toMatch(/without write access/);
  expect(r.opened.info.virtualSize).toBe(100 * 1024 ** 3);
  expect(r.opened.info.fileSize).toBe(100 * 1024 ** 3);
  expect(r.head).toBe(expected.head);
  expect(r.mid).toEqual(expected.mid);
  expect([r.mid[4095], r.mid[4096], r.mid[8191]]).toEqual([0, 0xb2, 0xb2]);
  expect(r.tail).toEqual([0xc3, 0xc3]);
  // Two u32 words per BAT entry, as the engine holds them.
  expect(r.words).toBe(2 * r.opened.info.bat.entries);
  // Structures plus the few blocks read: nowhere near the file's 100 GiB.
  expect(r.stats.io.bytesRead).toBeLessThan(16 * MiB);
  expect(r.stats.memory.cacheBytes).toBeLessThanOrEqual(r.stats.cache?.budget ?? 0);
});

test("OPFS sync backend: bytes written through the worker land in the file, qemu-img check stays clean", async ({
  page,
}) => {
  const p = qemuImage("opfs.vhdx", "64M", [
    [0x11, "0", "2M"],
    [0x22, "10M", "1M"],
  ]);
  await load(page, { "opfs.vhdx": p });
  const original = readFileSync(p);
  const r = await page.evaluate(async (len) => {
    const h = window.harness;
    const size = await h.putOpfs("work/opfs.vhdx", "/__fixtures/opfs.vhdx");
    const probe = h.createProbeClient();
    const opened = await probe.api.open({ kind: "opfs", path: "work/opfs.vhdx" });
    const before = await h.sha256(await probe.api.read("file", 0, len));
    const map = await probe.api.map();
    const block0 = map.extents.find((e) => e.kind === "payload-block" && e.index === 0);
    if (!block0) throw new Error("payload block 0 not in the map");
    // Overwrite 4 KiB of virtual offset 8192 inside payload block 0, and grow the file by a tail.
    const data = new Uint8Array(4096).fill(0x7e);
    const commit = await probe.call("rawCommit", [[{ offset: block0.start + 8192, data }]], {
      transfer: [data.buffer],
    });
    const virtual = await probe.api.read("virtual", 8192 - 4, 4096 + 8);
    const grown = await probe.api.rawSize();
    await probe.api.close();
    probe.worker.terminate();
    return {
      size,
      opened,
      before,
      commit,
      block0,
      virtual: [...virtual],
      grown,
    };
  }, original.length);
  expect(r.size).toBe(original.length);
  expect(r.opened.backend).toBe("opfs-sync");
  expect(r.opened.readOnly).toBe(false);
  expect(r.before).toBe(sha256(original));
  expect(r.virtual.slice(0, 4)).toEqual([0x11, 0x11, 0x11, 0x11]);
  expect(r.virtual.slice(4, 4100).every((v) => v === 0x7e)).toBe(true);
  expect(r.virtual.slice(4100)).toEqual([0x11, 0x11, 0x11, 0x11]);

  // Read back in Node: the original bytes with exactly the written range changed.
  const out = await fromOpfs(page, "work/opfs.vhdx", join(tempDir(), "opfs-after.vhdx"));
  const after = readFileSync(out);
  const expected = Buffer.from(original);
  expected.fill(0x7e, r.block0.start + 8192, r.block0.start + 8192 + 4096);
  expect(after.equals(expected)).toBe(true);
  execFileSync("qemu-img", ["check", "-f", "vhdx", out]);
  const [v] = qemuVirtual(out, [8192 - 4, 4096 + 8]);
  expect([...v.subarray(0, 4)]).toEqual([0x11, 0x11, 0x11, 0x11]);
  expect(v.subarray(4, 4100).every((b) => b === 0x7e)).toBe(true);
});

test("writable handle backend: one writable per commit, an aborted commit leaves the file as it was", async ({
  page,
}) => {
  const p = qemuImage("handle.vhdx", "32M", [[0x33, "1M", "1M"]]);
  await load(page, { "handle.vhdx": p });
  const original = readFileSync(p);
  const r = await page.evaluate(async () => {
    const h = window.harness;
    await h.putOpfs("user/handle.vhdx", "/__fixtures/handle.vhdx");
    h.stubOpenPicker("user/handle.vhdx");
    const handle = await h.pickFile();
    const probe = h.createProbeClient();
    const opened = await probe.api.open({ kind: "handle", handle, writable: true });
    const size = await probe.api.rawSize();
    const enc = (v: number, n: number) => new Uint8Array(n).fill(v);
    // An aborted commit (fails after its first write): nothing reaches the file.
    const aborted = await probe.api
      .rawCommit(
        [
          { offset: 0, data: enc(0xee, 16) },
          { offset: 4096, data: enc(0xee, 16) },
        ],
        { failAfter: 1 },
      )
      .then(
        () => "committed",
        (e: Error & { code?: string }) => e.code ?? e.message,
      );
    const afterAbort = await h.opfsSha256("user/handle.vhdx");
    // A commit of three writes, one growing the file past its end; flushed once.
    const commit = await probe.api.rawCommit([
      { offset: size - 100, data: enc(0x44, 50) },
      { offset: size + 4096, data: enc(0x55, 4096) },
      { offset: size - 60, data: enc(0x66, 10) },
    ]);
    const stats = await probe.api.stats();
    const readBack = h.toBase64(await probe.api.rawRead(size - 128, 128 + 8192));
    await probe.api.close();
    probe.worker.terminate();
    return {
      opened,
      size,
      aborted,
      afterAbort,
      commit,
      stats,
      readBack,
    };
  });
  expect(r.opened.backend).toBe("writable-handle");
  expect(r.opened.readOnly).toBe(false);
  expect(r.opened.commitCost?.bytesCopied).toBe(original.length);
  expect(r.aborted).toBe("CANCELLED");
  expect(r.afterAbort).toBe(sha256(original));
  expect(r.commit).toEqual({ atomic: true, commits: 1 });
  // The browser copied the file once for the commit; the cost estimate now has a measurement.
  expect(r.stats.commitCost?.estimatedMs).not.toBeNull();

  const size = original.length;
  const expected = Buffer.alloc(size + 8192);
  original.copy(expected);
  expected.fill(0x44, size - 100, size - 50);
  expected.fill(0x66, size - 60, size - 50);
  expected.fill(0x55, size + 4096, size + 8192); // the gap before it reads as zeros
  const final = readFileSync(await fromOpfs(page, "user/handle.vhdx", join(tempDir(), "handle-final.vhdx")));
  expect(final.length).toBe(size + 8192);
  expect(final.equals(expected)).toBe(true);
  expect(Buffer.from(r.readBack, "base64").equals(expected.subarray(size - 128))).toBe(true);
});

test("import into OPFS with progress, save back, save as and download keep every byte; a cancelled import leaves nothing", async ({
  page,
}) => {
  const p = qemuImage("import.vhdx", "64M", [
    [0x5a, "0", "20M"],
    [0x6b, "40M", "1M"],
  ]);
  const original = readFileSync(p);
  expect(original.length).toBeGreaterThan(16 * MiB); // several copy chunks
  await load(page, { "import.vhdx": p });
  await page.locator("#file").setInputFiles(p);
  const r = await page.evaluate(async () => {
    const h = window.harness;
    const engine = h.createEngineClient();
    const file = h.inputFile();

    // Cancelled on its first progress report.
    const job = engine.importToOpfs({ kind: "file", file }, "work/cancelled.vhdx");
    job.onProgress(() => job.cancel());
    const cancelled = await job.then(
      () => "finished",
      (e: Error & { code?: string }) => e.code ?? e.message,
    );
    const leftovers = [await h.opfsExists("work/cancelled.vhdx"), await h.opfsExists("work/cancelled.vhdx.partial")];

    const progress: { fraction: number; bytes: number }[] = [];
    const imported = await engine.call("importToOpfs", [{ kind: "file", file }, "work/disk.vhdx"], {
      onProgress: (e) => progress.push(e),
    });
    const importedHash = await h.opfsSha256("work/disk.vhdx");
    const partialLeft = await h.opfsExists("work/disk.vhdx.partial");
    const listing = await engine.opfsList("work");

    const opened = await engine.open({ kind: "opfs", path: "work/disk.vhdx" });
    // "Save back" over the user's original (here an OPFS file with other bytes).
    await h.putOpfs("user/original.vhdx", "/__fixtures/import.vhdx");
    const orig = await h.opfsHandle("user/original.vhdx");
    const w = await orig.createWritable();
    await w.write(new Uint8Array(100).fill(1));
    await w.close();
    const origHash = await h.opfsSha256("user/original.vhdx");
    // The app records the original when it makes a working copy; Save back writes only over that file.
    await engine.call("rememberOrigin", ["work/disk.vhdx", await orig.getFile()]);
    const cancelledSave = engine.saveBack(orig);
    cancelledSave.onProgress(() => cancelledSave.cancel());
    const saveCancelled = await cancelledSave.then(
      () => "finished",
      (e: Error & { code?: string }) => e.code ?? e.message,
    );
    const untouched = (await h.opfsSha256("user/original.vhdx")) === origHash;
    const savedBack = await engine.saveBack(orig);
    const savedBackHash = await h.opfsSha256("user/original.vhdx");
    // "Save as" to a new file from a save picker, and as a download.
    h.stubSavePicker("user/copy.vhdx");
    const saveAsTarget = await h.chooseSaveTarget("disk.vhdx");
    if (saveAsTarget?.kind !== "handle") throw new Error("the save picker was not used");
    const savedAs = await engine.saveAs(saveAsTarget);
    const savedAsHash = await h.opfsSha256("user/copy.vhdx");
    const download = await engine.saveAs({ kind: "download" });
    const downloadHash = download.kind === "download" ? await h.sha256(download.blob) : "";
    await engine.close();
    engine.terminate();
    return {
      cancelled,
      leftovers,
      imported,
      importedHash,
      partialLeft,
      listing,
      progress,
      opened: { backend: opened.backend, readOnly: opened.readOnly },
      saveCancelled,
      untouched,
      savedBack,
      savedBackHash,
      savedAs,
      savedAsHash,
      download: download.kind === "download" ? { name: download.name, bytes: download.bytes } : null,
      downloadHash,
    };
  });
  const hash = sha256(original);
  expect(r.cancelled).toBe("CANCELLED");
  expect(r.leftovers).toEqual([false, false]);
  expect(r.imported).toMatchObject({ bytes: original.length, path: "work/disk.vhdx" });
  expect(r.importedHash).toBe(hash);
  expect(r.partialLeft).toBe(false);
  expect(r.listing).toEqual([expect.objectContaining({ path: "work/disk.vhdx", size: original.length })]);
  expect(r.progress.length).toBeGreaterThan(0);
  expect(r.progress.at(-1)).toEqual({ fraction: 1, bytes: original.length });
  for (let i = 1; i < r.progress.length; i++) expect(r.progress[i].bytes).toBeGreaterThan(r.progress[i - 1].bytes);
  expect(r.opened).toEqual({ backend: "opfs-sync", readOnly: false });
  expect(r.saveCancelled).toBe("CANCELLED");
  expect(r.untouched).toBe(true);
  expect(r.savedBack.bytes).toBe(original.length);
  expect(r.savedBackHash).toBe(hash);
  expect(r.savedAsHash).toBe(hash);
  expect(r.download).toEqual({ name: "disk.vhdx", bytes: original.length });
  expect(r.downloadHash).toBe(hash);
});
