/**
 * Find, Save selection and Fill in the hex view, on the sample. Where Find must land is worked out
 * in Node from `vhdx cat` of the whole virtual disk (Buffer.indexOf, not our search); a saved
 * selection must equal those bytes with the staged edits laid over; a committed Fill is read back
 * by qemu-img (converted to raw) and checked clean.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { openPicked, opfsHash, stubPickers, willPick } from "./pickerStubs";

const SAMPLE = "public/sample.vhdx";
// Each test opens the sample, commits or streams MiB: on a loaded machine that outlasts the default minute.
test.setTimeout(180_000);
const MiB = 1024 * 1024;

let dir = "";
let disk: Buffer = Buffer.alloc(0);
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-find-"));
  disk = execFileSync("node", ["bin/vhdx.cjs", "cat", SAMPLE], { maxBuffer: 512 * MiB });
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every start of `needle` in the disk, found by Node's Buffer. */
function starts(needle: Buffer, haystack = disk): number[] {
  const out: number[] = [];
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) out.push(at);
  return out;
}

const hexOf = (n: number) => `0x${n.toString(16)}`;
const topRow = (page: Page) => page.locator(".hex-row").nth(1);
const rowLabel = (off: number) => {
  const h = (off - (off % 16)).toString(16).padStart(8, "0");
  return `${h.slice(0, 4)}_${h.slice(4)}`;
};

async function openSampleHex(page: Page): Promise<void> {
  await page.goto("/?sample");
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await expect(topRow(page)).toContainText("0000_0000");
}

async function expectMatch(page: Page, off: number, length: number): Promise<void> {
  await expect(page.getByRole("search", { name: "Find" }).getByRole("status")).toContainText(
    `Found ${length} bytes at`,
  );
  const end = off + length - 1;
  await expect(page.getByTestId("selection-status")).toContainText(`(${off}–${end}) · ${length} bytes`);
  // The match's row is the view's first.
  await expect(topRow(page)).toContainText(rowLabel(off));
}

test("Ctrl+F finds a hex pattern with a wildcard and a UTF-16LE string; F3 goes on, Shift+F3 back", async ({
  page,
}) => {
  await openSampleHex(page);
  const efi = starts(Buffer.from("EFI PART"));
  expect(efi.length).toBeGreaterThanOrEqual(2); // the GPT header and its backup
  await page.locator(".hex-grid").focus();
  await page.keyboard.press("Control+F");
  const input = page.getByRole("textbox", { name: "Find" });
  await expect(input).toBeFocused();
  await input.fill("45 46 49 ?? 50 41 52 54");
  await input.press("Enter");
  await expectMatch(page, efi[0], 8);
  await page.keyboard.press("F3");
  await expectMatch(page, efi[1], 8);
  await page.keyboard.press("Shift+F3");
  await expectMatch(page, efi[0], 8);

  // The partition name, UTF-16LE, typed in another case: found either case.
  const name = Buffer.from("studio sample", "utf16le");
  // Either case, by a regular expression over the bytes as Latin-1 (one character per byte).
  const re = new RegExp(name.toString("latin1").replace(/\0/g, "\\x00"), "gi");
  const names = [...disk.toString("latin1").matchAll(re)].map((m) => m.index);
  expect(names.length).toBeGreaterThanOrEqual(2);
  await page.getByLabel("Find as").selectOption("utf16le");
  await page.getByLabel("Ignore case").check();
  await input.fill("STUDIO sample");
  await page.getByLabel("Go to offset").fill("0");
  await page.getByLabel("Go to offset").press("Enter");
  await input.focus();
  await input.press("Enter");
  await expectMatch(page, names[0], name.length);
  await page.keyboard.press("F3");
  await expectMatch(page, names[1], name.length);
  await page.keyboard.press("Shift+F3");
  await expectMatch(page, names[0], name.length);
  // Past the last one: said so, the selection stays.
  await page.keyboard.press("F3");
  await expectMatch(page, names[1], name.length);
  await page.keyboard.press("F3");
  await expect(page.getByRole("search", { name: "Find" }).getByRole("status")).toContainText("No match from");
});

test("Save selection streams a 17 MiB selection (past the copy cap), staged edits laid over, as the engine reads it", async ({
  page,
}) => {
  // No save picker: the bytes come as a download.
  await page.addInitScript(() => {
    delete (window as unknown as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  await openSampleHex(page);
  await page.locator('.hex-bytes [data-off="16"]').click();
  await page.keyboard.type("c0ffee");
  const n = 17 * MiB;
  await page.getByLabel("Go to offset").fill(String(n - 1));
  await page.getByLabel("Go to offset").press("Enter");
  await page.locator(".hex-grid").focus();
  await page.keyboard.press("Shift+Control+Home");
  await expect(page.getByTestId("selection-status")).toContainText(`${n} bytes`);
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Save selection…" }).click();
  const saved = join(dir, "selection.bin");
  await (await download).saveAs(saved);
  await expect(page.getByRole("status").filter({ hasText: "Saved 17 MiB" })).toBeVisible();
  const want = Buffer.from(disk.subarray(0, n));
  want.set([0xc0, 0xff, 0xee], 16);
  const got = readFileSync(saved);
  expect(got.length).toBe(n);
  expect(got.equals(want)).toBe(true);
});

test("Save selection through the save picker writes the picked file; the open image itself is refused", async ({
  page,
}) => {
  await stubPickers(page, { "picked.vhdx": SAMPLE });
  await openPicked(page, "picked.vhdx");
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  const n = 3 * MiB + 5;
  await page.getByLabel("Go to offset").fill(String(n - 1));
  await page.getByLabel("Go to offset").press("Enter");
  await page.locator(".hex-grid").focus();
  await page.keyboard.press("Shift+Control+Home");
  await expect(page.getByTestId("selection-status")).toContainText(`${n} bytes`);
  // Onto the open image: refused, and the image is untouched.
  const before = await opfsHash(page, "picked.vhdx");
  await willPick(page, "picked.vhdx");
  await page.getByRole("button", { name: "Save selection…" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "cannot be written" })).toBeVisible();
  expect(await opfsHash(page, "picked.vhdx")).toBe(before);
  await willPick(page, "selection.bin");
  await page.getByRole("button", { name: "Save selection…" }).click();
  await expect(page.getByRole("status").filter({ hasText: "to selection.bin" })).toBeVisible();
  const want = createHash("sha256").update(disk.subarray(0, n)).digest("hex");
  expect(await opfsHash(page, "selection.bin")).toBe(want);
});

test("Fill stages a pattern over the selection; Commit writes it, as qemu-img reads it", async ({ page }) => {
  await page.addInitScript(() => {
    delete (window as unknown as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  await openSampleHex(page);
  await page.getByRole("button", { name: "Edit a working copy" }).click();
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("working copy");
  const replay = page.getByRole("button", { name: "Replay now" }).first();
  if (await replay.isVisible()) {
    await replay.click();
    await page.getByRole("dialog").getByRole("button", { name: "Replay now" }).click();
  }
  await expect(status).toContainText("editable");
  // 300 bytes from 0x30_0003: across row starts, the pattern's last repetition cut short.
  const start = 0x300003;
  const length = 300;
  await page.getByLabel("Go to offset").fill(hexOf(start));
  await page.getByLabel("Go to offset").press("Enter");
  await page.locator(`.hex-bytes [data-off="${start}"]`).click();
  await page.locator(`.hex-bytes [data-off="${start + length - 1}"]`).click({ modifiers: ["Shift"] });
  await expect(page.getByTestId("selection-status")).toContainText(`${length} bytes`);
  await page.getByRole("button", { name: "Fill…" }).click();
  await page.getByLabel("Fill with").fill("de ad be ef");
  await page.getByLabel("Fill with").press("Enter");
  await expect(page.getByText(`${length} bytes staged in 1 step`)).toBeVisible();
  // Undone and redone like a typed edit.
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(page.getByText("0 bytes staged")).toBeVisible();
  await page.getByRole("button", { name: "Redo" }).click();
  await page.getByRole("button", { name: "Commit", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Commit", exact: true }).click();
  await expect(dialog).toContainText("Committed.");
  await dialog.getByRole("button", { name: "Close", exact: true }).click();

  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Save a copy…" }).click();
  const saved = join(dir, "filled.vhdx");
  await (await download).saveAs(saved);
  execFileSync("qemu-img", ["check", "-f", "vhdx", saved], { stdio: "pipe" }); // throws unless clean
  const raw = join(dir, "filled.raw");
  execFileSync("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", saved, raw]);
  const got = readFileSync(raw);
  const want = Buffer.alloc(length).fill(Buffer.from("deadbeef", "hex"));
  expect(got.subarray(start, start + length).equals(want)).toBe(true);
  // Around it, the disk as it was.
  expect(got.subarray(start - 16, start).equals(disk.subarray(start - 16, start))).toBe(true);
  expect(
    got.subarray(start + length, start + length + 16).equals(disk.subarray(start + length, start + length + 16)),
  ).toBe(true);
});
