/**
 * The editor's views against images made at test time by QEMU (qemu-img, qemu-io): each view
 * shows what `vhdx info --json` / `vhdx map --json` report for the same file, read by the engine
 * in Node. Screenshots of each view land in e2e/screenshots/ (not committed) for review.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSampleAsPicked, fromOpfs } from "./opfsFiles";

const MiB = 1024 * 1024;
let dir = "";
let plain = "";
let overlap = "";
let huge = "";

interface Info {
  creator: string;
  virtualSize: number;
  blockSize: number;
  headers: { sequenceNumber: string | null; current: boolean; fileWriteGuid: string | null }[];
  regions: { name: string; fileOffset: number }[];
  bat: { entries: number; payload: Record<string, number> };
  virtualDiskId: string;
}

const vhdx = (...args: string[]) => execFileSync("node", ["bin/vhdx.cjs", ...args], { encoding: "utf8" });
const info = (file: string): Info => JSON.parse(vhdx("info", file, "--json")) as Info;

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-views-"));
  mkdirSync("e2e/screenshots", { recursive: true });
  plain = join(dir, "plain.vhdx");
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", plain, "64M"]);
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0xab 8M 3M", "-c", "write -P 0x41 30M 4k", plain], {
    stdio: "ignore",
  });
  // The same image with BAT entry 0 pointed into the metadata region: an overlap to show.
  overlap = join(dir, "overlap.vhdx");
  const bytes = readFileSync(plain);
  const bat = info(plain).regions.find((r) => r.name === "BAT")!.fileOffset;
  const meta = info(plain).regions.find((r) => r.name === "metadata")!.fileOffset;
  bytes.writeUInt32LE((6 | ((meta / MiB) << 20)) >>> 0, bat); // §2.5: state FULLY_PRESENT, FileOffsetMB
  bytes.writeUInt32LE(0, bat + 4);
  writeFileSync(overlap, bytes);
  huge = join(dir, "huge.vhdx");
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=32M", huge, "64T"]);
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(page: Page, file: string): Promise<void> {
  await page.goto("/");
  await page.locator('input[type="file"]').setInputFiles(file);
  await expect(page.getByRole("tab", { name: "Headers" })).toBeVisible();
}

async function tab(page: Page, name: string): Promise<void> {
  await page.getByRole("tab", { name, exact: true }).click();
  await expect(page.getByRole("tab", { name, exact: true })).toHaveAttribute("aria-selected", "true");
}

test("headers, metadata and the status bar show what the engine reports", async ({ page }) => {
  const want = info(plain);
  await open(page, plain);
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("dynamic");
  await expect(status).toContainText("virtual 64 MiB");
  await expect(status).toContainText("block 1 MiB");
  await expect(page.getByText(want.creator)).toBeVisible();
  const table = page.getByRole("table", { name: "Both headers" });
  for (const h of want.headers) await expect(table).toContainText(h.sequenceNumber ?? "—");
  const current = want.headers.findIndex((h) => h.current);
  await expect(table.getByRole("columnheader", { name: new RegExp(`Header ${current + 1}.*current`) })).toBeVisible();
  await page.screenshot({ path: "e2e/screenshots/headers.png" });

  await tab(page, "Metadata");
  const items = page.getByRole("table", { name: "Metadata items" });
  await expect(items).toContainText(`${want.virtualSize} bytes`);
  await expect(items).toContainText(want.virtualDiskId);
  await page.screenshot({ path: "e2e/screenshots/metadata.png" });
});

test("the region map, the region tables and the BAT legend", async ({ page }) => {
  const want = info(plain);
  await open(page, plain);
  await tab(page, "Regions");
  await expect(page.getByRole("application", { name: /^Region map/ })).toBeVisible();
  await expect(page.getByRole("table", { name: "Region table copies" })).toContainText("Region table 2");
  await expect(page.getByText("No two structures or blocks share a byte.")).toBeVisible();
  await page.screenshot({ path: "e2e/screenshots/regions.png" });

  await tab(page, "BAT");
  const present = want.bat.payload.FULLY_PRESENT ?? 0;
  expect(present).toBeGreaterThan(0);
  await expect(page.getByRole("checkbox", { name: new RegExp(`^FULLY_PRESENT ${present}$`) })).toBeVisible();
  await expect(page.getByText(String(want.bat.entries), { exact: true })).toBeVisible();
  await page.screenshot({ path: "e2e/screenshots/bat.png" });
});

test("the hex view goes to offsets, shows block state and the raw file", async ({ page }) => {
  await open(page, plain);
  await tab(page, "Hex");
  const goto = page.getByLabel("Go to offset");
  await goto.fill("0x80_0000");
  await goto.press("Enter");
  await expect(page.locator(".hex-row").nth(1)).toContainText("0080_0000");
  await expect(page.locator(".hex-row").nth(1)).toContainText("abababab");
  await expect(page.getByText("FULLY_PRESENT")).toBeVisible();
  await goto.fill("LBA 4096"); // 2 MiB: a block nothing wrote
  await goto.press("Enter");
  await expect(page.locator(".hex-row.unalloc").first()).toBeVisible();
  await page.getByRole("radio", { name: "Raw file" }).click();
  await expect(page.locator(".hex-row").nth(1)).toContainText("vhdxfile");
  await goto.fill("0x1_0000_0000"); // past the end of a 64 MiB file
  await goto.press("Enter");
  await expect(page.getByRole("alert")).toContainText("past the end");
  await page.screenshot({ path: "e2e/screenshots/hex.png" });
});

test("typing stages edits that undo and redo", async ({ page }) => {
  await open(page, plain);
  await tab(page, "Hex");
  await page.getByLabel("Go to offset").fill("0x1e0_0000");
  await page.getByLabel("Go to offset").press("Enter");
  await expect(page.locator(".hex-row").nth(1)).toContainText("4141");
  await page.keyboard.type("deadbeef");
  const list = page.getByRole("list", { name: "Staged writes" });
  await expect(list).toContainText("virtual 0x1e0_0000 4 B de ad be ef");
  await expect(page.locator(".hex-row").nth(1)).toContainText("deadbeef41");
  await page.keyboard.press("Control+z");
  await expect(list).toHaveCount(0);
  await page.keyboard.press("Control+y");
  await expect(page.getByRole("list", { name: "Staged writes" })).toContainText("de ad be ef");
});

test("an image with overlapping regions shows the highlight and names both owners", async ({ page }) => {
  const map = JSON.parse(vhdx("map", overlap, "--json")) as {
    overlaps: { a: { name: string }; b: { name: string } }[];
  };
  expect(map.overlaps.length).toBe(1);
  await open(page, overlap);
  await tab(page, "Regions");
  const table = page.getByRole("table", { name: "Overlaps" });
  await expect(table).toContainText(map.overlaps[0].a.name);
  await expect(table).toContainText(map.overlaps[0].b.name);
  // The checker's finding sits in the side panel, and the image is in inspection mode.
  await expect(page.getByText("Inspection mode.")).toBeVisible();
  const findings = page.getByRole("complementary", { name: "Findings" });
  await expect(findings).toContainText("REGION_OVERLAP");
  await findings
    .getByRole("button", { name: /^Show REGION_OVERLAP .* in the hex view$/ })
    .first()
    .click();
  await expect(page.getByRole("tab", { name: "Hex", exact: true })).toHaveAttribute("aria-selected", "true");
  await page.screenshot({ path: "e2e/screenshots/regions-overlap.png" });
});

test("a 64 TiB dynamic image's BAT renders", async ({ page }) => {
  const want = info(huge);
  expect(want.bat.entries).toBeGreaterThanOrEqual(2_097_152);
  await open(page, huge);
  await tab(page, "BAT");
  await expect(page.getByText(want.bat.entries.toLocaleString("en-US"), { exact: true })).toBeVisible();
  await expect(page.getByText(/^\d+(\.\d)? ms$/)).toBeVisible(); // painted
  const paint = await page.evaluate(() => performance.getEntriesByName("bat-paint").map((e) => e.duration));
  expect(paint.length).toBeGreaterThan(0);
  await page.screenshot({ path: "e2e/screenshots/bat-64tib.png" });
});

test("Open sample shows the sample's replayed state with the replay banner", async ({ page }) => {
  const want = JSON.parse(vhdx("info", "public/sample.vhdx", "--json")) as Info & { log: { needsReplay: boolean } };
  await page.goto("/");
  await page.getByRole("button", { name: "Open sample" }).click();
  await expect(page.getByRole("tab", { name: "Headers" })).toBeVisible();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("sample.vhdx");
  const banner = page.getByText("The log needs replay.");
  if (want.log.needsReplay) await expect(banner).toBeVisible();
  else await expect(banner).toHaveCount(0);
  await expect(page.getByText(want.creator)).toBeVisible();
  await tab(page, "Log");
  // Entries an earlier session left intact are stale (muted), as Node's `vhdx log` counts them; the
  // active sequence is the one Node reports.
  const log = JSON.parse(vhdx("log", "public/sample.vhdx", "--json")) as {
    active: { headSequenceNumber: string } | null;
    entries: { stale: boolean; valid: boolean; active: boolean }[];
  };
  expect(log.active).not.toBeNull();
  await expect(page.getByText(`up to sequence ${log.active!.headSequenceNumber}`)).toBeVisible();
  const stale = log.entries.filter((e) => e.stale).length;
  const invalid = log.entries.filter((e) => !e.valid && !e.stale).length;
  expect(stale).toBeGreaterThan(0);
  const entryRows = page.getByRole("table", { name: "Log entries" }).locator("tbody tr");
  await expect(entryRows).toHaveCount(log.entries.length);
  await expect(entryRows.filter({ hasText: "stale: written under an earlier LogGuid" })).toHaveCount(stale);
  await expect(entryRows.and(page.locator(".stale"))).toHaveCount(stale);
  await expect(entryRows.and(page.locator(".invalid"))).toHaveCount(invalid);
  await expect(entryRows.and(page.locator(".active"))).toHaveCount(log.entries.filter((e) => e.active).length);
  await page.screenshot({ path: "e2e/screenshots/log.png" });
});

test("a picked file handle (OPFS) opens and is remembered in recent files", async ({ page }) => {
  await openSampleAsPicked(page, "picked.vhdx");
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("picked.vhdx");
  await expect(page.getByRole("combobox", { name: "Recent files" })).toContainText("picked.vhdx");
});

test("?sample in the address opens the sample", async ({ page }) => {
  await page.goto("/?sample");
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("sample.vhdx");
  await expect(page.getByRole("tab", { name: "Headers" })).toHaveAttribute("aria-selected", "true");
});

test("a hex edit on a working copy of the sample commits, and the saved file reads back right", async ({ page }) => {
  // No save picker: "Save a copy…" falls back to a download the test can catch.
  await page.addInitScript(() => {
    delete (window as unknown as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  await page.goto("/?sample");
  await tab(page, "Hex");
  await page.getByRole("button", { name: "Edit a working copy" }).click();
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("working copy");
  const replay = page.getByRole("button", { name: "Replay now" }).first();
  if (await replay.isVisible()) {
    await replay.click();
    await page.getByRole("dialog").getByRole("button", { name: "Replay now" }).click();
  }
  await expect(status).toContainText("editable");
  const goto = page.getByLabel("Go to offset");
  await goto.fill("0x30_0100");
  await goto.press("Enter");
  await page.keyboard.type("c0ffee");
  await page.getByRole("button", { name: "Commit", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Bytes staged");
  await dialog.getByRole("button", { name: "Commit", exact: true }).click();
  await expect(dialog).toContainText("Committed.");
  await dialog.getByRole("button", { name: "Close", exact: true }).click();
  await expect(page.locator(".hex-row").nth(1)).toContainText("c0ffee");

  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Save a copy…" }).click();
  const saved = join(dir, "saved.vhdx");
  await (await download).saveAs(saved);
  const bytes = execFileSync("node", ["bin/vhdx.cjs", "cat", saved, "--offset", String(0x300100), "--length", "3"]);
  expect(Array.from(bytes)).toEqual([0xc0, 0xff, 0xee]);
  execFileSync("qemu-img", ["check", "-f", "vhdx", saved], { stdio: "pipe" }); // throws unless clean
});

test("a picked file opened for editing commits in place through one writable", async ({ page }) => {
  await openSampleAsPicked(page, "mine.vhdx");
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("mine.vhdx");
  await tab(page, "Hex");
  await page.getByRole("button", { name: "Enable editing" }).click();
  const replay = page.getByRole("button", { name: "Replay now" }).first();
  await expect(status).toContainText(/editable|until the log is replayed/);
  if (await replay.isEnabled()) {
    await replay.click();
    await page.getByRole("dialog").getByRole("button", { name: "Replay now" }).click();
  }
  await expect(status).toContainText("editable");
  await page.getByLabel("Go to offset").fill("LBA 4000");
  await page.getByLabel("Go to offset").press("Enter");
  await page.keyboard.type("5a5a");
  await page.getByRole("button", { name: "Commit", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Bytes the browser copies");
  await dialog.getByRole("button", { name: "Commit", exact: true }).click();
  await expect(dialog).toContainText("Committed.");
  await dialog.getByRole("button", { name: "Close", exact: true }).click();

  // The user's file itself now holds the edit: read it back in Node through the engine.
  const saved = join(dir, "mine.vhdx");
  await fromOpfs(page, "mine.vhdx", saved);
  const bytes = execFileSync("node", ["bin/vhdx.cjs", "cat", saved, "--offset", String(4000 * 512), "--length", "2"]);
  expect(Array.from(bytes)).toEqual([0x5a, 0x5a]);
  execFileSync("qemu-img", ["check", "-f", "vhdx", saved], { stdio: "pipe" });
});
