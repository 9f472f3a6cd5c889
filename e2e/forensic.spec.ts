/**
 * Forensic clarity on the sample (its log awaits replay): the raw file view marks the bytes that
 * come from the in-memory replay and shows the file on disk on request (checked against the
 * file's bytes read in Node); the Log view and the Replay confirmation list the decoded changes
 * `vhdx log --json` lists; the Report download equals `vhdx report --json` but for generatedAt.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";

const SAMPLE = "public/sample.vhdx";
const vhdx = (...args: string[]) => execFileSync("node", ["bin/vhdx.cjs", ...args], { encoding: "utf8" });
const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function fileBytes(offset: number, length: number): Uint8Array {
  const fd = openSync(SAMPLE, "r");
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

async function tab(page: Page, name: string): Promise<void> {
  await page.getByRole("tab", { name }).click();
}

interface LogJson {
  preview: { kind: string; fileOffset: number; length: number }[];
  changes: { changes: { text: string }[] };
}

test("raw file view: replayed bytes are marked, and the toggle shows the file on disk", async ({ page }) => {
  const log = JSON.parse(vhdx("log", SAMPLE, "--json")) as LogJson;
  const write = log.preview.find((p) => p.kind === "write")!;
  expect(write).toBeDefined();
  const at = write.fileOffset + 0x640; // a row the log changes (0x30_0640 on the sample)
  const onDisk = fileBytes(at, 16);
  await page.goto("/?sample");
  await tab(page, "Hex");
  await page.getByRole("radio", { name: "Raw file" }).click();
  const goto = page.getByLabel("Go to offset");
  await goto.fill(`0x${at.toString(16)}`);
  await goto.press("Enter");
  const row = page.locator(`.hex-row:has(.hx[data-off="${at}"])`);
  await expect(row).toHaveClass(/replayed/);
  await expect(page.getByRole("group", { name: "Replayed bytes" })).toContainText(
    "come from the log, replayed in memory",
  );
  const replayedText = await row.locator(".hex-bytes").innerText();
  expect(replayedText.replace(/\s/g, "")).not.toBe(hexOf(onDisk));

  await page.getByRole("radio", { name: "On disk" }).click();
  await expect(row.locator(".hex-bytes")).toHaveText(new RegExp(hexOf(onDisk).replace(/(..)/g, "$1\\s*")));
  await expect(row).toHaveClass(/replayed/);
  // A row the log leaves alone is not marked.
  await goto.fill("0x0");
  await goto.press("Enter");
  const first = page.locator('.hex-row:has(.hx[data-off="0"])');
  await expect(first).toBeVisible();
  await expect(first).not.toHaveClass(/replayed/);
  await page.getByRole("radio", { name: "As replayed" }).click();
  await page.screenshot({ path: "e2e/screenshots/replay-marks.png" });
});

test("the decoded replay preview in the Log view and the Replay confirmation", async ({ page }) => {
  const log = JSON.parse(vhdx("log", SAMPLE, "--json")) as LogJson;
  const texts = log.changes.changes.map((c) => c.text);
  expect(texts).toContain("BAT entry 200 (payload block 200): NOT_PRESENT → FULLY_PRESENT at file 0xd0_0000");
  await page.goto("/?sample");
  // Replay needs writable storage: a working copy of the sample in browser storage.
  await tab(page, "Hex");
  await page.getByRole("button", { name: "Edit a working copy" }).click();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("working copy");
  await tab(page, "Log");
  const list = page.getByRole("list", { name: "What the replay changes" });
  for (const t of texts) await expect(list).toContainText(t);
  const replay = page.getByRole("button", { name: "Replay now" }).first();
  await expect(replay).toBeEnabled();
  await replay.click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("list", { name: "Changes the replay makes" })).toContainText(
    "BAT entry 200 (payload block 200): NOT_PRESENT → FULLY_PRESENT at file 0xd0_0000",
  );
  await dialog.getByRole("button", { name: "Cancel" }).click();
});

test("the Report download equals `vhdx report --json` but for generatedAt", async ({ page }) => {
  await page.addInitScript(() => {
    delete (window as unknown as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  await page.goto("/?sample");
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("sample.vhdx");
  await page.getByRole("button", { name: "Report", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Report" });
  await expect(dialog.getByLabel("SHA-256")).toHaveText(/^[0-9a-f]{64}$/);
  const download = page.waitForEvent("download");
  await dialog.getByRole("button", { name: "Save JSON…" }).click();
  const d = await download;
  expect(d.suggestedFilename()).toBe("sample.report.json");
  const got = JSON.parse(readFileSync(await d.path(), "utf8")) as Record<string, unknown>;
  const want = JSON.parse(vhdx("report", SAMPLE, "--json")) as Record<string, unknown>;
  expect({ ...got, generatedAt: null }).toEqual({ ...want, generatedAt: null });
});
