/**
 * VHD in the Convert dialog: a qemu-made dynamic VHD (qemu-io wrote its data) picked and converted
 * to VHDX, which opens in the editor; that image out again as a dynamic and a fixed VHD. Each
 * output is checked outside the browser by qemu-img compare against the VHD QEMU made.
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromOpfs } from "./opfsFiles";
import { stubPickers } from "./pickerStubs";

let dir = "";
test.beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-vhd-"))));
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a dynamic VHD converts to VHDX, and the open image back to dynamic and fixed VHDs", async ({ page }) => {
  test.setTimeout(180_000);
  const src = join(dir, "old.vhd");
  execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", src, "6M"]);
  execFileSync("qemu-io", ["-f", "vpc", "-c", "write -P 0x5a 1M 70k", "-c", "write -P 0xc3 4M 4k", src], {
    stdio: "ignore",
  });
  await stubPickers(page, { "old.vhd": src });

  await page.getByRole("button", { name: "Convert" }).click();
  const d = page.getByRole("dialog", { name: "Convert" });
  await d.getByRole("radio", { name: "VHD → VHDX" }).click();
  await page.evaluate(() => (window as unknown as { pickQueue: string[] }).pickQueue.push("old.vhd"));
  await d.getByRole("button", { name: "Choose VHD…" }).click();
  await expect(d.getByLabel("Chosen VHD")).toHaveText("old.vhd");
  await d.getByLabel("Output name").fill("from-vhd");
  await d.getByRole("button", { name: "Convert", exact: true }).click();
  await expect(d.getByText("Convert: done.")).toBeVisible();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("from-vhd.vhdx");
  const vhdx = await fromOpfs(page, "toolbox/from-vhd.vhdx", join(dir, "from-vhd.vhdx"));
  execFileSync("qemu-img", ["check", "-f", "vhdx", vhdx]);
  execFileSync("qemu-img", ["compare", "-f", "vpc", "-F", "vhdx", src, vhdx]);

  for (const sub of ["dynamic", "fixed"]) {
    await d.getByRole("radio", { name: "Open image → VHD" }).click();
    await d.getByRole("radio", { name: sub, exact: true }).click();
    await d.getByLabel("Output name").fill(`back-${sub}`);
    await d.getByRole("button", { name: "Convert", exact: true }).click();
    await expect(d.getByText("Convert: done.")).toBeVisible();
    await expect(d.getByText("A VHD does not open in the editor")).toBeVisible();
    const out = await fromOpfs(page, `toolbox/back-${sub}.vhd`, join(dir, `back-${sub}.vhd`));
    execFileSync("qemu-img", ["compare", "-f", "vpc", "-F", "vpc", out, src]);
    const info = JSON.parse(execFileSync("node", ["bin/vhdx.cjs", "info", "--json", out], { encoding: "utf8" })) as {
      diskType: string;
    };
    expect(info.diskType).toBe(sub);
  }
});
