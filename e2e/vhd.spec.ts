/**
 * VHD in the Convert dialog: a qemu-made dynamic VHD (qemu-io wrote its data) picked and converted
 * to VHDX, which opens in the editor; that image out again as a dynamic and a fixed VHD. Each
 * output is checked outside the browser by qemu-img compare against the VHD QEMU made.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromOpfs } from "./opfsFiles";

let dir = "";
test.beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-vhd-"))));
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Loads the app; a navigation the service worker starts meanwhile is waited out, not an error. */
async function gotoApp(page: Page): Promise<void> {
  try {
    await page.goto("/");
  } catch (e) {
    if (!String(e).includes("interrupted by another navigation")) throw e;
    await page.waitForLoadState("load");
  }
}

async function stubPickers(page: Page, files: Record<string, string>): Promise<void> {
  await gotoApp(page);
  for (const [name, path] of Object.entries(files)) {
    await page.evaluate(
      async ({ name, b64 }) => {
        const bin = atob(b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const root = await navigator.storage.getDirectory();
        const w = await (await root.getFileHandle(name, { create: true })).createWritable();
        await w.write(bytes);
        await w.close();
      },
      { name, b64: readFileSync(path).toString("base64") },
    );
  }
  await page.evaluate(() => {
    const win = window as unknown as Record<string, unknown> & { pickQueue: string[] };
    win.pickQueue = [];
    win.showOpenFilePicker = async () => {
      const root = await navigator.storage.getDirectory();
      return [await root.getFileHandle(win.pickQueue.shift()!)];
    };
  });
}

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
