/**
 * A working copy of a large file: before anything is copied the dialog says how large the file
 * is and how long the copy will take (measured), then the copy runs with the time left; a cancel
 * keeps no copy, partial or whole. The file is a QEMU image padded to 512 MiB (trailing space
 * is allowed after the last structure), given through the file input as a user's File.
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gotoApp, opfsNames } from "./pickerStubs";

test.setTimeout(300_000);
const MiB = 1024 * 1024;

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-wcopy-"));
  mkdirSync("e2e/screenshots", { recursive: true });
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a 512 MiB file: size and measured estimate first, Cancel keeps nothing, then the copy is made", async ({
  page,
}) => {
  const big = join(dir, "big.vhdx");
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", big, "1G"]);
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x7e 0 1M", big], { stdio: "ignore" });
  truncateSync(big, 512 * MiB);
  await gotoApp(page);
  await page.getByLabel("Choose a VHDX file").setInputFiles(big);
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("big.vhdx");
  await page.getByRole("tab", { name: "Hex", exact: true }).click();

  const d = page.getByRole("dialog", { name: "Working copy" });
  await page.getByRole("button", { name: "Edit a working copy" }).click();
  const estimate = d.getByRole("status", { name: "Working copy estimate" });
  await expect(estimate).toContainText(/Copying it takes about .+ \(measured: .+\/s on its first 32 MiB\)/, {
    timeout: 60_000,
  });
  await expect(d).toContainText("512 MiB (536,870,912 bytes)");
  // The measurement left nothing in browser storage.
  expect(await opfsNames(page, "working-copies")).toEqual([]);
  await page.screenshot({ path: "e2e/screenshots/working-copy-estimate.png" });

  // Started, then cancelled while it runs: no copy and no partial file.
  await d.getByRole("button", { name: "Make working copy" }).click();
  await expect(d.getByRole("progressbar", { name: "Working copy progress" })).toBeVisible();
  await expect(d.getByRole("status", { name: "Working copy time left" })).toContainText(
    /Copying big.vhdx: .+ of 512 MiB — about .+ left at/,
  );
  await page.screenshot({ path: "e2e/screenshots/working-copy-progress.png" });
  await d.getByRole("button", { name: "Cancel" }).click();
  await expect(d).toContainText("Cancelled; no copy was kept.");
  expect(await opfsNames(page, "working-copies")).toEqual([]);
  await expect(status).toContainText("read-only");
  await d.getByRole("button", { name: "Close" }).click();

  // Asked again and let run: the copy opens for editing, byte for byte the file.
  await page.getByRole("button", { name: "Edit a working copy" }).click();
  const said = await estimate.textContent({ timeout: 60_000 });
  const t0 = Date.now();
  await d.getByRole("button", { name: "Make working copy" }).click();
  await expect(d).toBeHidden({ timeout: 240_000 });
  // Kept in the report: what was said before, and how long the copy took.
  test.info().annotations.push({ type: "estimate", description: `${said} — took ${(Date.now() - t0) / 1000} s` });
  console.log(`working copy: ${said} — took ${(Date.now() - t0) / 1000} s`);
  await expect(status).toContainText("big.vhdx (working copy)");
  await expect(status).toContainText("editable");
  expect(await opfsNames(page, "working-copies")).toEqual(["big.vhdx"]);
  const sample = await page.evaluate(async () => {
    const dirh = await (await navigator.storage.getDirectory()).getDirectoryHandle("working-copies");
    const f = await (await dirh.getFileHandle("big.vhdx")).getFile();
    const at = [0, 3 * 2 ** 20, f.size - 4096];
    const parts = await Promise.all(
      at.map(async (o) => Array.from(new Uint8Array(await f.slice(o, o + 4096).arrayBuffer()))),
    );
    return { size: f.size, parts };
  });
  expect(sample.size).toBe(512 * MiB);
  const fd = openSync(big, "r");
  for (const [i, at] of [0, 3 * MiB, 512 * MiB - 4096].entries()) {
    const b = Buffer.alloc(4096);
    readSync(fd, b, 0, 4096, at);
    expect(sample.parts[i]).toEqual(Array.from(b));
  }
  closeSync(fd);
});
