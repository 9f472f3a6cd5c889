/**
 * The toolbox in the browser: the log and the checker through the engine worker, check and
 * repair of damaged images, checked against the engine in Node (bin/vhdx.mjs) and qemu-img.
 * Screenshots land in e2e/screenshots/ (not committed) for review.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";

const vhdx = (...args: string[]) => execFileSync("node", ["bin/vhdx.mjs", ...args], { encoding: "utf8" });

interface LogJson {
  needsReplay: boolean;
  active: { headSequenceNumber: string; entryCount: number; tail: number; head: number } | null;
  entries: { active: boolean }[];
}

test.beforeAll(() => {
  mkdirSync("e2e/screenshots", { recursive: true });
});

async function tab(page: Page, name: string): Promise<void> {
  await page.getByRole("tab", { name, exact: true }).click();
  await expect(page.getByRole("tab", { name, exact: true })).toHaveAttribute("aria-selected", "true");
}

test("the sample's Log view shows the active sequence the engine finds in Node", async ({ page }) => {
  const want = JSON.parse(vhdx("log", "public/sample.vhdx", "--json")) as LogJson;
  expect(want.needsReplay).toBe(true);
  expect(want.active).not.toBeNull();
  await page.goto("/");
  await page.getByRole("button", { name: "Open sample" }).click();
  await tab(page, "Log");
  const a = want.active!;
  const n = a.entryCount;
  await expect(page.getByText(`${n} ${n === 1 ? "entry" : "entries"} up to sequence ${a.headSequenceNumber}`)).toBeVisible();
  const table = page.getByRole("table", { name: "Log entries" });
  await expect(table.locator("tbody tr")).toHaveCount(want.entries.length);
  await expect(table.locator("tbody tr.active")).toHaveCount(want.entries.filter((e) => e.active).length);
  // The checker's findings reach the panel: the sample's pending log is one of them.
  await expect(page.getByRole("button", { name: /^Findings \(\d+\)$/ })).toBeEnabled();
  await page.screenshot({ path: "e2e/screenshots/toolbox-log.png" });
});
