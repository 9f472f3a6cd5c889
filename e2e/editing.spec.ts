/**
 * Editing in the browser: exclusive editing across tabs, recent files, log replay and commits
 * through the engine worker, each read back in Node and judged by qemu-img.
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { countWrites, crashShimUnavailable, runKilledAt } from "../test/helpers/crash";
import { fromOpfs } from "./opfsFiles";
import { load, MiB, qemuImage as makeImage, qemuVirtual, sha256, useTempDir } from "./storageHelpers";

const tempDir = useTempDir("vhdx-e2e-editing-");
const qemuImage = (name: string, size: string, writes: Parameters<typeof makeImage>[3]) =>
  makeImage(tempDir(), name, size, writes);

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
      const commit = a.readOnly
        ? await probe.api.commitPatch([{ space: "virtual", offset: 0, data: new Uint8Array(512) }]).then(
            () => "committed",
            (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
          )
        : "not tried";
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
        commit,
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
  expect(blocked.commit).toMatch(/^READ_ONLY: .*another tab or window is editing this file/);

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
  const p = join(tempDir(), "dirty.vhdx");
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
  const replayed = join(tempDir(), "dirty-replayed.vhdx");
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
      };
    }, kind);
    expect(r.awaited).toBe(true);
    expect(r.replay).toEqual({ replayed: true });
    expect(r.again).toEqual({ readOnly: false, needsReplay: false });
    const out = await fromOpfs(page, "work/dirty.vhdx", join(tempDir(), `dirty-${kind}-replayed-in-browser.vhdx`));
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
        return { opened, cost, commit, progress, shownHash, info };
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
    const out = await fromOpfs(page, "c/commit.vhdx", join(tempDir(), `commit-${kind}-after.vhdx`));
    execFileSync("qemu-img", ["check", "-f", "vhdx", out]);
    const [after] = qemuVirtual(out, span);
    expect(after.equals(expected)).toBe(true);
  });
}

test("a commit cancelled midway on a user's file leaves the file as it was, and the image usable", async ({ page }) => {
  const p = qemuImage("cancel.vhdx", "64M", [[0x10, "0", "1M"]]);
  const original = readFileSync(p);
  await load(page, { "cancel.vhdx": p });
  const r = await page.evaluate(async () => {
    const h = window.harness;
    await h.putOpfs("c/cancel.vhdx", "/__fixtures/cancel.vhdx");
    const engine = h.createEngineClient();
    await engine.open({ kind: "handle", handle: await h.opfsHandle("c/cancel.vhdx"), writable: true });
    // 48 MiB of new blocks: long enough for the cancel to arrive while the commit runs.
    const big = [
      { space: "virtual" as const, offset: 8 * 1024 * 1024, data: new Uint8Array(48 * 1024 * 1024).fill(0xcc) },
    ];
    const job = engine.commitPatch(big);
    job.onProgress(() => job.cancel());
    const outcome = await job.then(
      () => "committed",
      (e: Error & { code?: string }) => e.code ?? e.message,
    );
    const hashAfterCancel = await h.opfsSha256("c/cancel.vhdx");
    const shown = [...(await engine.read("virtual", 8 * 1024 * 1024, 4))];
    const next = await engine.commitPatch([{ space: "virtual", offset: 0, data: new Uint8Array(4).fill(0xee) }]);
    const first = [...(await engine.read("virtual", 0, 6))];
    await engine.close();
    engine.terminate();
    return { outcome, hashAfterCancel, shown, next: next.atomic, first };
  });
  expect(r.outcome).toBe("CANCELLED");
  expect(r.hashAfterCancel).toBe(sha256(original));
  expect(r.shown).toEqual([0, 0, 0, 0]);
  expect(r.next).toBe(true);
  expect(r.first).toEqual([0xee, 0xee, 0xee, 0xee, 0x10, 0x10]);
  const out = await fromOpfs(page, "c/cancel.vhdx", join(tempDir(), "cancel-after.vhdx"));
  execFileSync("qemu-img", ["check", "-f", "vhdx", out]);
  const [q] = qemuVirtual(out, [0, 6], [8 * MiB, 4]);
  expect([...q]).toEqual([0xee, 0xee, 0xee, 0xee, 0x10, 0x10]);
});
