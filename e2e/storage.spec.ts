/**
 * The engine worker's storage in real Chromium: each backend round-trips bytes against images
 * made by qemu-img, handed to the page through OPFS (or a file input for the File path).
 * Writes go through the worker; the bytes are read back in Node and checked with qemu-img.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Harness } from "./harness";
import { countWrites, crashShimUnavailable, runKilledAt } from "../test/helpers/crash";

declare global {
  interface Window {
    harness: Harness;
  }
}

const MiB = 1024 * 1024;
let dir = "";

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-storage-"));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A dynamic VHDX made by qemu-img, with data written by qemu-io at the given virtual offsets. */
function qemuImage(name: string, size: string, writes: [pattern: number, offset: string, length: string][]): string {
  const p = join(dir, name);
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", p, size]);
  if (writes.length) {
    const cmds = writes.flatMap(([pat, off, len]) => ["-c", `write -P ${pat} ${off} ${len}`]);
    execFileSync("qemu-io", ["-f", "vhdx", ...cmds, p], { stdio: "ignore" });
  }
  return p;
}

/** Virtual bytes as qemu-img sees them, for each [offset, length] range (one conversion). */
function qemuVirtual(p: string, ...ranges: [number, number][]): Buffer[] {
  const raw = p + ".raw";
  execFileSync("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", p, raw]);
  // The raw output is sparse; read just the ranges asked for.
  const fd = openSync(raw, "r");
  const out = ranges.map(([offset, length]) => {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  });
  closeSync(fd);
  rmSync(raw);
  return out;
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

async function load(page: Page, fixtures: Record<string, string> = {}): Promise<void> {
  await page.route("**/__fixtures/*", async (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.split("/").pop() ?? "");
    const path = fixtures[name];
    if (!path) return route.fulfill({ status: 404 });
    return route.fulfill({ status: 200, body: readFileSync(path), contentType: "application/octet-stream" });
  });
  await page.goto("/e2e/harness.html");
  await expect(page.locator("#status")).toHaveText("ready");
  await page.evaluate(() => window.harness.clearOpfs());
}

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
    const before = h.toBase64(await probe.api.read("file", 0, len));
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
      after: await h.opfsBase64("work/opfs.vhdx"),
    };
  }, original.length);
  expect(r.size).toBe(original.length);
  expect(r.opened.backend).toBe("opfs-sync");
  expect(r.opened.readOnly).toBe(false);
  expect(Buffer.from(r.before, "base64").equals(original)).toBe(true);
  expect(r.virtual.slice(0, 4)).toEqual([0x11, 0x11, 0x11, 0x11]);
  expect(r.virtual.slice(4, 4100).every((v) => v === 0x7e)).toBe(true);
  expect(r.virtual.slice(4100)).toEqual([0x11, 0x11, 0x11, 0x11]);

  // Read back in Node: the original bytes with exactly the written range changed.
  const after = Buffer.from(r.after, "base64");
  const expected = Buffer.from(original);
  expected.fill(0x7e, r.block0.start + 8192, r.block0.start + 8192 + 4096);
  expect(after.equals(expected)).toBe(true);
  const out = join(dir, "opfs-after.vhdx");
  writeFileSync(out, after);
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
      final: await h.opfsBase64("user/handle.vhdx"),
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
  const final = Buffer.from(r.final, "base64");
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

test("exclusive editing: a second tab opens the same file read-only and says why", async ({ page, context }) => {
  const p = qemuImage("locked.vhdx", "16M", [[0x77, "0", "1M"]]);
  await load(page, { "locked.vhdx": p });
  const second = await context.newPage();
  await second.goto("/e2e/harness.html");
  await expect(second.locator("#status")).toHaveText("ready");
  await page.evaluate(async () => {
    const h = window.harness;
    await h.putOpfs("work/locked.vhdx", "/__fixtures/locked.vhdx");
    await h.putOpfs("user/locked.vhdx", "/__fixtures/locked.vhdx");
    const engine = h.createEngineClient();
    (window as unknown as { engine: typeof engine }).engine = engine;
    await engine.open({ kind: "opfs", path: "work/locked.vhdx" });
    const handleEngine = h.createEngineClient();
    (window as unknown as { handleEngine: typeof engine }).handleEngine = handleEngine;
    await handleEngine.open({ kind: "handle", handle: await h.opfsHandle("user/locked.vhdx"), writable: true });
  });
  const tryOpen = () =>
    second.evaluate(async () => {
      const h = window.harness;
      const probe = h.createProbeClient();
      const writeRefused = () =>
        probe.api.rawCommit([{ offset: 0, data: new Uint8Array(1) }]).then(
          () => "written",
          (e: Error & { code?: string }) => e.code ?? e.message,
        );
      const a = await probe.api.open({ kind: "opfs", path: "work/locked.vhdx" });
      const firstByte = (await probe.api.read("virtual", 0, 1))[0];
      const opfsWrite = a.readOnly ? await writeRefused() : "not tried";
      await probe.api.close();
      const b = await probe.api.open({
        kind: "handle",
        handle: await h.opfsHandle("user/locked.vhdx"),
        writable: true,
      });
      const handleWrite = b.readOnly ? await writeRefused() : "not tried";
      await probe.api.close();
      probe.worker.terminate();
      return {
        opfs: { readOnly: a.readOnly, reason: a.readOnlyReason },
        firstByte,
        handle: { readOnly: b.readOnly, reason: b.readOnlyReason },
        writes: [opfsWrite, handleWrite],
      };
    });
  const blocked = await tryOpen();
  expect(blocked.opfs.readOnly).toBe(true);
  expect(blocked.opfs.reason).toMatch(/another tab or window is editing this file/);
  expect(blocked.firstByte).toBe(0x77); // read-only still reads
  expect(blocked.handle.readOnly).toBe(true);
  expect(blocked.handle.reason).toMatch(/another tab or window is editing this file/);
  // Even raw storage writes are refused in the read-only tab.
  expect(blocked.writes).toEqual(["READ_ONLY", "READ_ONLY"]);

  // Once the first tab closes the images, the second can edit.
  await page.evaluate(async () => {
    const w = window as unknown as { engine: { close(): Promise<void> }; handleEngine: { close(): Promise<void> } };
    await w.engine.close();
    await w.handleEngine.close();
  });
  const free = await tryOpen();
  expect(free.opfs).toEqual({ readOnly: false, reason: null });
  expect(free.handle).toEqual({ readOnly: false, reason: null });
  expect(free.writes).toEqual(["not tried", "not tried"]);
});

test("recent files keep handles in IndexedDB and ask for permission again on reopen", async ({ page }) => {
  await load(page);
  const r = await page.evaluate(async () => {
    const h = window.harness;
    await h.recent.clearRecent();
    const a = await h.opfsHandle("user/a.vhdx", true);
    const b = await h.opfsHandle("user/b.vhdx", true);
    await h.recent.addRecent(a);
    await new Promise((res) => setTimeout(res, 5));
    await h.recent.addRecent(b);
    await new Promise((res) => setTimeout(res, 5));
    const again = await h.recent.addRecent(await h.opfsHandle("user/a.vhdx")); // same file: one entry
    const list = await h.recent.listRecent();
    const reopened = await h.recent.reopenRecent(again.id, "readwrite");
    const same = await reopened.entry.handle.isSameEntry(a);
    return { names: list.map((e) => e.name), state: reopened.state, same };
  });
  expect(r.names).toEqual(["a.vhdx", "b.vhdx"]);
  expect(r.state).toBe("granted"); // origin-private files are always granted; user files prompt
  expect(r.same).toBe(true);
});

test("an image whose log needs replay opens read-only, shown replayed, unwritten; replay() in the browser makes it editable", async ({
  page,
}) => {
  const unavailable = crashShimUnavailable();
  test.skip(unavailable !== undefined, unavailable);
  // qemu-io killed mid-allocation leaves an active log sequence (found by trying each kill point).
  const base = qemuImage("dirty-base.vhdx", "16M", []);
  const p = join(dir, "dirty.vhdx");
  const args = ["-f", "vhdx", "-c", "write -P 0x3c 2M 64k", p];
  copyFileSync(base, p);
  const { count } = countWrites("qemu-io", args);
  const opened: { readOnly: boolean; reason: string | null; needsReplay: boolean; bytes: number[] }[] = [];
  await load(page, { "dirty.vhdx": p });
  for (let n = count - 1; n >= 1 && !opened.at(-1)?.needsReplay; n--) {
    copyFileSync(base, p);
    runKilledAt("qemu-io", args, n);
    opened.push(
      await page.evaluate(async () => {
        const h = window.harness;
        await h.putOpfs("work/dirty.vhdx", "/__fixtures/dirty.vhdx");
        const engine = h.createEngineClient();
        const r = await engine.open({ kind: "opfs", path: "work/dirty.vhdx" });
        const bytes = [...(await engine.read("virtual", 2 * 1024 * 1024 - 2, 4))];
        await engine.close();
        engine.terminate();
        return { readOnly: r.readOnly, reason: r.readOnlyReason, needsReplay: r.info.log.needsReplay, bytes };
      }),
    );
  }
  const dirty = opened.at(-1);
  expect(dirty?.needsReplay).toBe(true);
  expect(dirty?.readOnly).toBe(true);
  expect(dirty?.reason).toMatch(/log holds changes not yet written/);
  // Opening wrote nothing: the working copy is byte for byte what qemu-io left.
  const left = readFileSync(p);
  expect(await page.evaluate(() => window.harness.opfsSha256("work/dirty.vhdx"))).toBe(sha256(left));
  // What the page shows is what QEMU reads once it has replayed the log itself.
  const replayed = join(dir, "dirty-replayed.vhdx");
  copyFileSync(p, replayed);
  execFileSync("qemu-img", ["check", "-q", "-r", "all", "-f", "vhdx", replayed], { stdio: "ignore" });
  const [q] = qemuVirtual(replayed, [2 * 1024 * 1024 - 2, 4]);
  expect(dirty?.bytes).toEqual([...q]);

  // replay() writes the log into the file as one commit; the image is then editable.
  for (const kind of ["opfs", "handle"] as const) {
    const r = await page.evaluate(async (kind) => {
      const h = window.harness;
      await h.putOpfs("work/dirty.vhdx", "/__fixtures/dirty.vhdx");
      const engine = h.createEngineClient();
      const source =
        kind === "opfs"
          ? { kind: "opfs" as const, path: "work/dirty.vhdx" }
          : { kind: "handle" as const, handle: await h.opfsHandle("work/dirty.vhdx"), writable: true };
      const opened = await engine.open(source);
      const replay = await engine.replay();
      await engine.commitPatch([{ space: "virtual", offset: 0, data: new Uint8Array(512).fill(0xd1) }]);
      await engine.close();
      const again = await engine.open(source);
      await engine.close();
      engine.terminate();
      return {
        awaited: opened.logAwaitsReplay,
        replay,
        again: { readOnly: again.readOnly, needsReplay: again.info.log.needsReplay },
        file: await h.opfsBase64("work/dirty.vhdx"),
      };
    }, kind);
    expect(r.awaited).toBe(true);
    expect(r.replay).toEqual({ replayed: true });
    expect(r.again).toEqual({ readOnly: false, needsReplay: false });
    const out = join(dir, `dirty-${kind}-replayed-in-browser.vhdx`);
    writeFileSync(out, Buffer.from(r.file, "base64"));
    execFileSync("qemu-img", ["check", "-f", "vhdx", out]);
    const [first, atLog] = qemuVirtual(out, [0, 512], [2 * 1024 * 1024 - 2, 4]);
    expect(first.every((b) => b === 0xd1)).toBe(true);
    expect([...atLog]).toEqual([...q]);
  }
});

for (const kind of ["opfs", "handle"] as const) {
  test(`a patch committed through the worker on ${kind === "opfs" ? "an OPFS working copy" : "a user's file handle"} reads back in Node: same bytes, qemu-img check clean`, async ({
    page,
  }) => {
    const p = qemuImage(`commit-${kind}.vhdx`, "64M", [
      [0x21, "0", "1M"],
      [0x42, "8M", "2M"],
    ]);
    // Edits: across a sector boundary inside a present block, and into a block not yet allocated.
    const edits = [
      { offset: 512 * 1024 - 100, length: 5000, value: 0x99 },
      { offset: 30 * MiB + 4096, length: 70_000, value: 0xab },
    ];
    const span = [0, 32 * MiB] as [number, number];
    const [before] = qemuVirtual(p, span);
    const expected = Buffer.from(before);
    for (const e of edits) expected.fill(e.value, e.offset, e.offset + e.length);
    await load(page, { "commit.vhdx": p });
    const r = await page.evaluate(
      async ({ kind, edits }) => {
        const h = window.harness;
        await h.putOpfs("c/commit.vhdx", "/__fixtures/commit.vhdx");
        const engine = h.createEngineClient();
        const opened =
          kind === "opfs"
            ? await engine.open({ kind: "opfs", path: "c/commit.vhdx" })
            : await engine.open({ kind: "handle", handle: await h.opfsHandle("c/commit.vhdx"), writable: true });
        const patch = edits.map((e) => ({
          space: "virtual" as const,
          offset: e.offset,
          data: new Uint8Array(e.length).fill(e.value),
        }));
        const cost = await engine.patchCost(patch);
        const progress: number[] = [];
        const commit = await engine.commitPatch(patch).onProgress((p) => progress.push(p.fraction));
        const shown = await engine.read("virtual", 0, 32 * 1024 * 1024);
        const shownHash = await h.sha256(shown);
        const info = await engine.info();
        await engine.close();
        engine.terminate();
        return { opened, cost, commit, progress, shownHash, info, file: await h.opfsBase64("c/commit.vhdx") };
      },
      { kind, edits },
    );
    expect(r.opened.readOnly).toBe(false);
    expect(r.cost.problems).toEqual([]);
    expect(r.cost.virtual?.blocksAllocated).toBe(1);
    expect(r.cost.storage === null).toBe(kind === "opfs");
    expect(r.commit.atomic).toBe(true);
    expect(r.commit.blocksAllocated).toBe(1);
    expect(r.progress.at(-1)).toBe(1);
    // The page shows the patched disk...
    expect(r.shownHash).toBe(sha256(expected));
    expect(r.info.log.needsReplay).toBe(false);
    // ...and Node finds exactly those bytes in the file, which QEMU judges clean.
    const out = join(dir, `commit-${kind}-after.vhdx`);
    writeFileSync(out, Buffer.from(r.file, "base64"));
    execFileSync("qemu-img", ["check", "-f", "vhdx", out]);
    const [after] = qemuVirtual(out, span);
    expect(after.equals(expected)).toBe(true);
  });
}
