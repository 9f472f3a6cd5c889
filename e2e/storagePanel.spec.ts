/**
 * The Storage panel: the app's files in the origin's storage, listed with size, last change and
 * whether each is open; Open, Download and Delete (confirmed, refused for the open image); the
 * quota. Files are put there by qemu-img through OPFS; what the panel says is checked against
 * what OPFS holds, and a download against the bytes put in.
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toOpfs } from "./opfsFiles";
import { opfsHash, opfsNames, stubPickers } from "./pickerStubs";
import { sha256 } from "./storageHelpers";

test.setTimeout(180_000);

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-panel-"));
  mkdirSync("e2e/screenshots", { recursive: true });
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

function image(name: string, size: string): string {
  const p = join(dir, name);
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", p, size]);
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x5a 0 1M", p], { stdio: "ignore" });
  return p;
}

test("Storage lists the app's files; Open, Download, Delete (confirmed, refused for the open image), the quota", async ({
  page,
}) => {
  const a = image("disk-a.vhdx", "16M");
  const b = image("disk-b.vhdx", "8M");
  await stubPickers(page, {});
  // Files where the app keeps them: a toolbox output and a working copy.
  await toOpfs(page, "toolbox/disk-a.vhdx", a);
  await toOpfs(page, "working-copies/disk-b.vhdx", b);

  await page.getByRole("button", { name: "Storage" }).click();
  const d = page.getByRole("dialog", { name: "Storage" });
  const table = d.getByRole("table", { name: "Files in browser storage" });
  const rowOf = (path: string) => table.getByRole("row").filter({ hasText: path });
  await expect(rowOf("toolbox/disk-a.vhdx").getByRole("cell").nth(1)).toHaveAttribute(
    "title",
    `${statSync(a).size.toLocaleString("en-US")} bytes`,
  );
  await expect(rowOf("working-copies/disk-b.vhdx")).toBeVisible();
  await expect(d.getByRole("status", { name: "Browser storage quota" })).toContainText(/used of .* available/);
  const meter = d.getByRole("meter", { name: "Browser storage used" });
  expect(Number(await meter.getAttribute("value"))).toBeGreaterThan(statSync(a).size);

  // Open: the file opens in the editor; listed again, it is marked open and cannot be deleted.
  await d.getByRole("button", { name: "Open toolbox/disk-a.vhdx" }).click();
  await expect(d).toBeHidden();
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("disk-a.vhdx");
  await page.getByRole("button", { name: "Storage" }).click();
  await expect(rowOf("toolbox/disk-a.vhdx")).toContainText("open in the editor");
  await expect(d.getByRole("button", { name: "Delete toolbox/disk-a.vhdx" })).toBeDisabled();
  await expect(d.getByRole("button", { name: "Delete working-copies/disk-b.vhdx" })).toBeEnabled();
  await page.screenshot({ path: "e2e/screenshots/storage.png" });
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.screenshot({ path: "e2e/screenshots/storage-1024x700.png" });
  // Every action stays in reach at 1024×700.
  await expect(d.getByRole("button", { name: "Delete working-copies/disk-b.vhdx" })).toBeInViewport();

  // Download: the bytes put in.
  const download = page.waitForEvent("download");
  await d.getByRole("button", { name: "Download working-copies/disk-b.vhdx" }).click();
  const saved = join(dir, "downloaded.vhdx");
  const dl = await download;
  expect(dl.suggestedFilename()).toBe("disk-b.vhdx");
  await dl.saveAs(saved);
  expect(sha256(readFileSync(saved))).toBe(sha256(readFileSync(b)));

  // Delete asks first; Cancel keeps the file, Delete removes it.
  await d.getByRole("button", { name: "Delete working-copies/disk-b.vhdx" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete from browser storage" });
  await expect(confirm).toContainText("Delete working-copies/disk-b.vhdx");
  await page.screenshot({ path: "e2e/screenshots/storage-delete.png" });
  await confirm.getByRole("button", { name: "Cancel" }).click();
  expect(await opfsNames(page, "working-copies")).toEqual(["disk-b.vhdx"]);
  await d.getByRole("button", { name: "Delete working-copies/disk-b.vhdx" }).click();
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(d.getByRole("status").filter({ hasText: "Deleted working-copies/disk-b.vhdx." })).toBeVisible();
  await expect(rowOf("working-copies/disk-b.vhdx")).toHaveCount(0);
  expect(await opfsNames(page, "working-copies")).toEqual([]);
  // The open file is untouched.
  expect(await opfsHash(page, "toolbox/disk-a.vhdx")).toBe(sha256(readFileSync(a)));
});
