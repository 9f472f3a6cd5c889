/**
 * "Resize…" in the browser, on the user's own file (a picked handle opened for editing) and on a
 * working copy in OPFS: the cost shows before anything is written, then the image is resized in one
 * commit and the editor shows the new size. The file is read back in Node: qemu-img checks it
 * clean, reports the new size, and reads the old bytes before the old end and zeros after it.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromOpfs } from "./opfsFiles";
import { gotoApp, openPicked, stubPickers } from "./pickerStubs";

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-resize-"));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 4 MiB dynamic image qemu-img made, 1 MiB blocks, data in its first 1.5 MiB; and its raw disk. */
function qemuFixture(name: string): { path: string; raw: string } {
  const path = join(dir, name);
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", path, "4M"]);
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x5a 0 1536K", path], { stdio: "ignore" });
  const raw = join(dir, name + ".raw");
  execFileSync("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", path, raw]);
  return { path, raw };
}

/** qemu-img's verdict on the resized file: check, size, and the old disk's bytes then zeros. */
function judge(file: string, raw: string, size: number): void {
  execFileSync("qemu-img", ["check", "-f", "vhdx", file]);
  const info = JSON.parse(
    execFileSync("qemu-img", ["info", "--output=json", "-f", "vhdx", file], { encoding: "utf8" }),
  );
  expect(info["virtual-size"]).toBe(size);
  // Exit status 0: identical, the larger image reading zeros past the smaller one's end.
  execFileSync("qemu-img", ["compare", "-f", "raw", "-F", "vhdx", raw, file]);
}

async function resizeTo(page: Page, text: string, expected: string): Promise<void> {
  await page.getByRole("button", { name: "Resize…" }).click();
  const d = page.getByRole("dialog", { name: "Resize the virtual disk" });
  await expect(d).toContainText("file systems inside are not touched");
  await d.getByLabel("New size").fill(text);
  await d.getByRole("button", { name: "Show the cost" }).click();
  const cost = d.getByLabel("Cost");
  await expect(cost).toContainText(`4 MiB → ${expected}`);
  await expect(cost).toContainText("BAT entries changed");
  await d.getByRole("button", { name: "Resize", exact: true }).click();
  await expect(d.getByRole("status")).toContainText(`Resized to ${expected}`);
  await d.getByRole("button", { name: "Close" }).click();
}

test("on a picked file: cost first, one commit, qemu-img reads the grown image", async ({ page }) => {
  const f = qemuFixture("mine.vhdx");
  await stubPickers(page, { "mine.vhdx": f.path });
  await openPicked(page, "mine.vhdx");
  const status = page.getByRole("contentinfo", { name: "Status" });
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await page.getByRole("button", { name: "Enable editing" }).click();
  await expect(status).toContainText("editable");
  await resizeTo(page, "9M", "9 MiB");
  await expect(status).toContainText("9 MiB");
  const saved = join(dir, "mine.after.vhdx");
  await fromOpfs(page, "mine.vhdx", saved);
  judge(saved, f.raw, 9 * 1024 * 1024);
});

test("on a working copy in OPFS: a shrink over data is refused with its offset, then a grow", async ({ page }) => {
  const f = qemuFixture("copy.vhdx");
  await gotoApp(page);
  await page.getByLabel("Choose a VHDX file").setInputFiles(f.path);
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("copy.vhdx");
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await page.getByRole("button", { name: "Edit a working copy" }).click();
  // A small file is copied at once, without asking.
  await expect(status).toContainText("copy.vhdx (working copy)");
  await expect(status).toContainText("editable");

  await page.getByRole("button", { name: "Resize…" }).click();
  const d = page.getByRole("dialog", { name: "Resize the virtual disk" });
  await d.getByLabel("New size").fill("1M");
  await d.getByRole("button", { name: "Show the cost" }).click();
  await expect(d.getByLabel("Cost")).toContainText("4 MiB → 1 MiB");
  await d.getByRole("button", { name: "Resize", exact: true }).click();
  await expect(d.getByRole("alert")).toContainText("holds data at 0x10_0000, past the new end 0x10_0000");
  await d.getByRole("button", { name: "Close" }).click();

  await resizeTo(page, "6M", "6 MiB");
  const saved = join(dir, "copy.after.vhdx");
  await fromOpfs(page, "working-copies/copy.vhdx", saved);
  judge(saved, f.raw, 6 * 1024 * 1024);
});
