/**
 * The hex view's selection and copy on the sample: a drag, shift+click and shift+keys select; the
 * clipboard then holds exactly what `vhdx cat --offset --length` reads in Node for the same range
 * (the replayed state both sides show), in each format checked against its own oracle: Node's
 * Buffer for hex and Base64, `hexdump -C -v` for the dump. Staged edits are copied as shown.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SAMPLE = "public/sample.vhdx";
const cat = (offset: number, length: number): Buffer =>
  execFileSync("node", ["bin/vhdx.cjs", "cat", SAMPLE, "--offset", String(offset), "--length", String(length)], {
    maxBuffer: 64 * 1024 * 1024,
  });

test.use({ permissions: ["clipboard-read", "clipboard-write"] });

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-hexsel-"));
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openSampleHex(page: Page): Promise<void> {
  await page.goto("/?sample");
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await expect(page.locator(".hex-row").nth(1)).toContainText("0000_0000");
}

async function goTo(page: Page, where: string, rowText: string): Promise<void> {
  const goto = page.getByLabel("Go to offset");
  await goto.fill(where);
  await goto.press("Enter");
  await expect(page.locator(".hex-row").nth(1)).toContainText(rowText);
}

const cell = (page: Page, off: number, pane: "hex" | "text" = "hex") =>
  page.locator(`.hex-${pane === "hex" ? "bytes" : "ascii"} [data-off="${off}"]`);

async function center(page: Page, off: number, pane: "hex" | "text" = "hex"): Promise<{ x: number; y: number }> {
  const box = await cell(page, off, pane).boundingBox();
  if (!box) throw new Error(`cell ${off} is not on screen`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** The clipboard after a copy the page confirmed. */
async function copied(page: Page, what: string): Promise<string> {
  // A copy of many MiB takes as long as the machine needs: wait for the page to say it is done.
  await expect(page.getByRole("status").filter({ hasText: `Copied ${what}` })).toBeVisible({ timeout: 60_000 });
  return page.evaluate(() => navigator.clipboard.readText());
}

/**
 * The clipboard's length and SHA-256 (of its UTF-8) after a copy the page confirmed: for copies
 * of many MiB, whose text would take longer to hand to Node than to make.
 */
async function copiedDigest(page: Page, what: string): Promise<{ length: number; sha256: string }> {
  await expect(page.getByRole("status").filter({ hasText: `Copied ${what}` })).toBeVisible({ timeout: 60_000 });
  return page.evaluate(async () => {
    const text = await navigator.clipboard.readText();
    const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
    return { length: text.length, sha256: Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("") };
  });
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

const status = (page: Page) => page.getByTestId("selection-status");

test("drag, shift+click and shift+keys select; the clipboard holds what vhdx cat reads", async ({ page }) => {
  await openSampleHex(page);
  await goTo(page, "0x1b0", "0000_01b0");

  // Drag across the hex column: the MBR's partition entries and its signature.
  const from = await center(page, 0x1be);
  const to = await center(page, 0x1fd);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
  await expect(status(page)).toHaveText("Selection 0x1be–0x1fd (446–509) · 64 bytes (0x40)");
  await expect(page.locator(".hx.sel")).toHaveCount(64);
  await expect(page.locator(".ax.sel")).toHaveCount(64);
  mkdirSync("e2e/screenshots", { recursive: true });
  await page.screenshot({ path: "e2e/screenshots/hex-selection.png" });
  await page.keyboard.press("Control+C");
  expect(await copied(page, "64 bytes as Hex")).toBe(cat(0x1be, 64).toString("hex"));

  // Shift+click in the text column extends from the same anchor: into the GPT header at LBA 1.
  await cell(page, 0x207, "text").click({ modifiers: ["Shift"] });
  await expect(status(page)).toContainText("0x1be–0x207 (446–519) · 74 bytes");
  await page.getByRole("button", { name: "Copy as Base64" }).click();
  expect(await copied(page, "74 bytes as Base64")).toBe(cat(0x1be, 74).toString("base64"));

  // A plain click drops the selection; shift+click makes a new one from there.
  await cell(page, 0x200).click();
  await expect(status(page)).toHaveText("No selection");
  await cell(page, 0x21f).click({ modifiers: ["Shift"] });
  await page.getByRole("button", { name: "Copy as Dump" }).click();
  const dumpFile = join(dir, "dump.bin");
  writeFileSync(dumpFile, Buffer.concat([Buffer.alloc(0x200), cat(0x200, 32)]));
  const dump = execFileSync("hexdump", ["-C", "-v", "-s", "0x200", "-n", "32", dumpFile], { encoding: "latin1" });
  expect(await copied(page, "32 bytes as Dump")).toBe(dump);
  await page.getByRole("button", { name: "Copy as Text" }).click();
  expect(await copied(page, "32 bytes as Text")).toContain("EFI PART");

  // Go to with a K suffix, then shift+arrows from the cursor: the first GPT partition entry.
  await goTo(page, "1K", "0000_0400");
  await page.locator(".hex-grid").focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press("Shift+ArrowRight");
  await page.keyboard.press("Shift+ArrowDown");
  await expect(status(page)).toHaveText("Selection 0x400–0x413 (1024–1043) · 20 bytes (0x14)");
  await page.keyboard.press("Control+C");
  expect(await copied(page, "20 bytes as Hex")).toBe(cat(0x400, 20).toString("hex"));
  await page.keyboard.press("Escape");
  await expect(status(page)).toHaveText("No selection");
});

test("staged edits are copied as the grid shows them", async ({ page }) => {
  await openSampleHex(page);
  await goTo(page, "1024", "0000_0400");
  await cell(page, 0x400).click();
  await page.keyboard.type("c0ffee");
  await expect(page.locator(".hx.staged")).toHaveCount(3);
  await cell(page, 0x40f).click();
  await cell(page, 0x400).click({ modifiers: ["Shift"] });
  await expect(status(page)).toContainText("16 bytes");
  await page.keyboard.press("Control+C");
  expect(await copied(page, "16 bytes as Hex")).toBe("c0ffee" + cat(0x403, 13).toString("hex"));
});

test("the raw file view: go to 1M, select a row, copy the file's bytes; select all is capped", async ({ page }) => {
  await openSampleHex(page);
  await page.getByRole("radio", { name: "Raw file" }).click();
  await goTo(page, "1M", "0010_0000");
  await page.locator(".hex-grid").focus();
  await page.keyboard.press("Shift+End");
  await expect(status(page)).toHaveText("Selection 0x10_0000–0x10_000f (1048576–1048591) · 16 bytes (0x10)");
  await page.keyboard.press("Control+C");
  // The log region: a read-only replay never changes it, so the file on disk is the oracle.
  const file = readFileSync(SAMPLE);
  expect(await copied(page, "16 bytes as Hex")).toBe(file.subarray(0x100000, 0x100010).toString("hex"));

  // Select all on the 256 MiB virtual disk: shown, but copying says why it will not.
  await page.getByRole("radio", { name: "Virtual disk" }).click();
  await page.locator(".hex-grid").focus();
  await page.keyboard.press("Control+A");
  await expect(status(page)).toContainText("268435456 bytes (0x1000_0000, 256 MiB)");
  await expect(page.getByRole("note").filter({ hasText: "copying is limited to 16 MiB" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Copy as Hex" })).toBeDisabled();
  await page.evaluate(() => navigator.clipboard.writeText("unchanged"));
  await page.keyboard.press("Control+C");
  await expect(page.getByRole("note").filter({ hasText: "Select a smaller range" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("unchanged");
});

/** The offset the hex view's top row shows, as a number. */
async function topRowOffset(page: Page): Promise<number> {
  const text = (await page.locator(".hex-row").nth(1).locator(".hex-off").textContent()) ?? "";
  return parseInt(text.replace(/_/g, ""), 16);
}

/** The selection's first and last byte, from the status line. */
async function selected(page: Page): Promise<{ start: number; end: number }> {
  const m = /\((\d+)–(\d+)\)/.exec((await status(page).textContent()) ?? "");
  if (!m) throw new Error("nothing is selected");
  return { start: Number(m[1]), end: Number(m[2]) };
}

test("a drag held still past an edge keeps scrolling and selecting, and stops at the release and at the disk's start", async ({
  page,
}) => {
  await openSampleHex(page);
  await goTo(page, "0x1000", "0000_1000");
  const grid = await page.locator(".hex-grid").boundingBox();
  if (!grid) throw new Error("no grid");
  const from = await center(page, 0x1003);
  // Columns are where they are whatever the scroll: x positions taken before the view moves.
  const col9 = (await center(page, 0x1009)).x;
  const col12 = (await center(page, 0x100c)).x;
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  // Below the grid in column 9, then held still: the view scrolls on with no pointer moves.
  await page.mouse.move(col9, grid.y + grid.height + 60, { steps: 4 });
  await expect.poll(() => topRowOffset(page), { timeout: 5000 }).toBeGreaterThan(0x1000 + 64 * 16);
  // Still below the grid, over to column 12: the selection's end follows the pointer's column.
  await page.mouse.move(col12, grid.y + grid.height + 60, { steps: 2 });
  await page.waitForTimeout(200);
  // Checked once released: while the button is held the view moves on every frame, and a row
  // read a moment ago may have scrolled out of the (virtual) grid already.
  await page.mouse.up();
  const released = await selected(page);
  const releasedTop = await topRowOffset(page);
  expect(released.start).toBe(0x1003);
  // The selection ends on the bottom row shown, in the column under the pointer.
  const rows = (await page.locator(".hex-row").count()) - 1;
  expect(released.end % 16).toBe(12);
  expect(Math.floor(released.end / 16) * 16).toBeGreaterThanOrEqual(releasedTop);
  expect(Math.floor(released.end / 16) * 16).toBeLessThan(releasedTop + rows * 16);
  await expect(cell(page, released.end)).toHaveClass(/sel/);
  await page.waitForTimeout(400);
  expect(await selected(page)).toEqual(released);
  expect(await topRowOffset(page)).toBe(releasedTop);
  // The clipboard holds the bytes the drag selected, as vhdx cat reads them.
  await page.keyboard.press("Control+C");
  const n = released.end - released.start + 1;
  expect(await copied(page, `${n} bytes`)).toBe(cat(released.start, n).toString("hex"));

  // Far above the top edge: fast, and it stops at the disk's first byte.
  await goTo(page, "0x2000", "0000_2000");
  const up = await center(page, 0x2005);
  await page.mouse.move(up.x, up.y);
  await page.mouse.down();
  await page.mouse.move(up.x, Math.max(1, grid.y - 200), { steps: 4 });
  await expect(status(page)).toContainText("Selection 0x0–0x2005 (0–8197)", { timeout: 5000 });
  expect(await topRowOffset(page)).toBe(0);
  await page.mouse.up();
});

test("a 14 MiB copy is formatted off the page's main thread and equals vhdx cat's bytes", async ({ page }) => {
  await openSampleHex(page);
  await page.locator(".hex-grid").focus();
  // Staged bytes inside the range are copied as shown.
  await cell(page, 0x10).click();
  await page.keyboard.type("c0ffee");
  await goTo(page, String(14 * 1024 * 1024 - 1), "00df_fff0");
  await page.locator(".hex-grid").focus();
  await page.keyboard.press("Shift+Control+Home");
  await expect(status(page)).toContainText("14680064 bytes");
  // Frames drawn from the click until the page says the copy is done: the page keeps painting.
  await page.evaluate(() => {
    const w = window as unknown as { copyFrames: number[] };
    const frames: number[] = (w.copyFrames = []);
    const tick = (t: number) => {
      if (document.querySelector(".copy-note.ok")) return;
      frames.push(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.getByRole("button", { name: "Copy as Hex" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Copying 14680064 bytes (14 MiB)" })).toBeVisible();
  const text = await copiedDigest(page, "14680064 bytes as Hex");
  const frames = await page.evaluate(() => (window as unknown as { copyFrames: number[] }).copyFrames);
  const want = cat(0, 14 * 1024 * 1024);
  want.set([0xc0, 0xff, 0xee], 0x10);
  expect(text.length).toBe(want.length * 2);
  expect(text.sha256).toBe(sha256(want.toString("hex")));
  const gaps = frames.slice(1).map((t, i) => t - frames[i]);
  console.log(`14 MiB copy as hex: ${frames.length} frames, longest gap ${Math.max(...gaps).toFixed(1)} ms`);
  expect(frames.length).toBeGreaterThan(8);
  // Formatting 14 MiB on the page would be one long task: one gap nearly as long as the whole copy.
  // Off the main thread the page keeps painting, however slow a loaded machine makes the copy; a
  // loaded machine may still stall the page once for a while, so the bound is half the span.
  const span = frames[frames.length - 1] - frames[0];
  expect(Math.max(...gaps)).toBeLessThan(span / 2);

  await page.getByRole("button", { name: "Copy as Base64" }).click();
  const b64 = want.toString("base64");
  expect(await copiedDigest(page, "14680064 bytes as Base64")).toEqual({ length: b64.length, sha256: sha256(b64) });
});
