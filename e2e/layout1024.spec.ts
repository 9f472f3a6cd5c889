/**
 * Every view at 1024×700 with the findings panel open (a damaged image opens it by itself): each
 * tab shows, and the hex grid's last column (0f) and its text column are on screen or reachable by
 * scrolling sideways. Screenshots land in test-results/layout-1024/ for review.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MiB = 1024 * 1024;
const SHOTS = "test-results/layout-1024";
let dir = "";
let damaged = "";

test.use({ viewport: { width: 1024, height: 700 } });

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-layout-"));
  mkdirSync(SHOTS, { recursive: true });
  const plain = join(dir, "plain.vhdx");
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", plain, "64M"]);
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0xab 8M 1M", plain], { stdio: "ignore" });
  // BAT entry 0 pointed into the metadata region: an overlap the checker reports as an error.
  const info = JSON.parse(execFileSync("node", ["bin/vhdx.cjs", "info", plain, "--json"], { encoding: "utf8" })) as {
    regions: { name: string; fileOffset: number }[];
  };
  const bat = info.regions.find((r) => r.name === "BAT")!.fileOffset;
  const meta = info.regions.find((r) => r.name === "metadata")!.fileOffset;
  const bytes = readFileSync(plain);
  bytes.writeUInt32LE((6 | ((meta / MiB) << 20)) >>> 0, bat); // §2.5: FULLY_PRESENT, FileOffsetMB
  bytes.writeUInt32LE(0, bat + 4);
  damaged = join(dir, "damaged.vhdx");
  writeFileSync(damaged, bytes);
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function tab(page: Page, name: string): Promise<void> {
  await page.getByRole("tab", { name, exact: true }).click();
  await expect(page.getByRole("tab", { name, exact: true })).toHaveAttribute("aria-selected", "true");
}

/** The hex grid's column 0f and its text column: on screen, or brought there by scrolling the grid sideways. */
async function expectWholeRow(page: Page): Promise<void> {
  const head = page.locator(".hex-head");
  const last = head.locator(".hx").last();
  await expect(last).toHaveText("0f");
  const text = head.locator(".hex-ascii");
  // Whatever does not fit must be reachable by the user: the grid scrolls sideways (not clipped).
  const grid = await page.locator(".hex-grid").evaluate((el) => ({
    overflowX: getComputedStyle(el).overflowX,
    clipped: el.scrollWidth > el.clientWidth,
  }));
  if (grid.clipped) expect(["auto", "scroll"]).toContain(grid.overflowX);
  for (const cell of [last, text]) {
    await cell.scrollIntoViewIfNeeded();
    await expect(cell).toBeInViewport({ ratio: 1 });
  }
  // A data row's last byte and last character too.
  const row = page.locator(".hex-row:not(.hex-head)").first();
  await row.locator(".ax").last().scrollIntoViewIfNeeded();
  await expect(row.locator(".ax").last()).toBeInViewport({ ratio: 1 });
  await expect(row.locator(".hx").last()).toBeInViewport({ ratio: 1 });
}

test("every view works at 1024×700 with the findings panel open", async ({ page }) => {
  await page.goto("/");
  await page.locator('input[type="file"]').setInputFiles(damaged);
  await expect(page.getByRole("tab", { name: "Headers" })).toBeVisible();
  const findings = page.getByRole("complementary", { name: "Findings" });
  await expect(findings).toBeVisible();
  await expect(findings).toContainText("REGION_OVERLAP");

  await expect(page.getByRole("table", { name: "Both headers" })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/headers.png` });
  await tab(page, "Regions");
  await expect(page.getByRole("application", { name: /^Region map/ })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/regions.png` });
  await tab(page, "BAT");
  await expect(page.getByRole("checkbox", { name: /^FULLY_PRESENT/ })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/bat.png` });
  await tab(page, "Log");
  await expect(page.getByRole("tabpanel")).toContainText(/log/i);
  await page.screenshot({ path: `${SHOTS}/log.png` });
  await tab(page, "Metadata");
  await expect(page.getByRole("table", { name: "Metadata items" })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/metadata.png` });

  await tab(page, "Hex");
  await expect(page.locator(".hex-grid")).toBeInViewport();
  await expectWholeRow(page);
  await page.screenshot({ path: `${SHOTS}/hex-virtual.png` });
  await page.getByRole("radio", { name: "Raw file" }).click();
  await expect(page.locator(".hex-row").nth(1)).toContainText("vhdxfile");
  await expectWholeRow(page);
  await expect(page.getByRole("table", { name: "Values at the cursor" })).toBeAttached();
  await page.screenshot({ path: `${SHOTS}/hex-raw.png` });

  await tab(page, "Files");
  await expect(page.getByRole("tabpanel")).not.toBeEmpty();
  await page.screenshot({ path: `${SHOTS}/files.png` });
});
