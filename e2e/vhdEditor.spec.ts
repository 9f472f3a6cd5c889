/**
 * A VHD (v1) opened in the editor: a dynamic disk made by qemu-img and written by qemu-io shows
 * its footer, dynamic header and BAT as `vhdx info --json` reports them, read-only with the way
 * to VHDX offered; the hex view shows qemu's bytes at an offset; a fixed VHD holding a FAT file
 * system (mkfs.fat, mcopy) browses in the Files tab.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MiB = 1024 * 1024;
let dir = "";
test.beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-vhdeditor-"))));
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function open(page: Page, file: string): Promise<void> {
  await page.goto("/");
  await page.locator('input[type="file"]').setInputFiles(file);
  await expect(page.getByRole("tab", { name: "Footer" })).toBeVisible();
}

/** The app's hex form: 0x, lower case, "_" every four digits. */
const hex = (n: number) => "0x" + n.toString(16).replace(/\B(?=([0-9a-f]{4})+$)/g, "_");

test("a dynamic VHD: footer, header and BAT as `vhdx info` reports them; qemu's bytes in the hex view", async ({
  page,
}) => {
  const src = join(dir, "dyn.vhd");
  execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", src, "8M"]);
  execFileSync("qemu-io", ["-f", "vpc", "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0xc3 6M 4k", src], {
    stdio: "ignore",
  });
  const info = JSON.parse(execFileSync("node", ["bin/vhdx.cjs", "info", src, "--json"]).toString());
  await open(page, src);
  await expect(page.getByRole("status", { name: "VHD read-only" })).toContainText("read-only");
  await expect(page.getByRole("button", { name: "Convert to VHDX…" })).toBeVisible();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("dyn.vhd");
  // Only the VHD's own views: no VHDX tabs.
  await expect(page.getByRole("tab", { name: "Headers" })).toHaveCount(0);

  const footer = page.getByRole("table", { name: "Footer", exact: true });
  await expect(footer.getByRole("row", { name: /^Current Size/ })).toContainText(String(info.footer.currentSize));
  await expect(footer.getByRole("row", { name: /^Unique Id/ })).toContainText(info.footer.uniqueId);
  await expect(footer.getByRole("row", { name: /^Creator Application/ })).toContainText(info.footer.creatorApplication);
  await expect(footer.getByRole("row", { name: /^Data Offset/ })).toContainText(hex(info.footer.dataOffset));
  await expect(footer.getByRole("row", { name: /^Disk Type/ })).toContainText("3 (dynamic)");
  await expect(page.getByLabel("Footer copy verdict")).toHaveText(
    info.footerCopy.matches ? "Identical to the footer." : "Differs from the footer.",
  );

  await page.screenshot({ path: "e2e/screenshots/vhd-footer.png" });
  await page.getByRole("tab", { name: "Dynamic header" }).click();
  const h = page.getByRole("table", { name: "Dynamic disk header" });
  await expect(h.getByRole("row", { name: /^Table Offset/ })).toContainText(hex(info.dynamicHeader.tableOffset));
  await expect(h.getByRole("row", { name: /^Max Table Entries/ })).toContainText(
    String(info.dynamicHeader.maxTableEntries),
  );
  await expect(h.getByRole("row", { name: /^Block Size/ })).toContainText(String(info.dynamicHeader.blockSize));

  await page.getByRole("tab", { name: "BAT" }).click();
  await expect(page.getByRole("img", { name: /^BAT:/ })).toHaveAttribute(
    "aria-label",
    `BAT: ${info.bat.allocated} of ${info.bat.entries} blocks allocated`,
  );
  // qemu-io wrote into blocks 0 and 3 (2 MiB blocks).
  const blocks = page.getByRole("table", { name: "Allocated blocks" }).locator("tbody tr td:first-child");
  await expect(blocks).toHaveText(["0", "3"]);
  await page.screenshot({ path: "e2e/screenshots/vhd-bat.png" });

  await page.getByRole("tab", { name: "Hex" }).click();
  await page.getByLabel("Offset").fill(String(6 * MiB));
  const expected = execFileSync("qemu-io", ["-f", "vpc", "-r", "-c", `read -v ${6 * MiB} 16`, src]).toString();
  // qemu-io prints "00600000:  c3 c3 …" for the first 16 bytes.
  const qemuBytes = expected.split("\n")[0].split(/\s+/).slice(1, 17).join(" ");
  expect(qemuBytes).toBe(Array(16).fill("c3").join(" "));
  await expect(page.getByLabel("Hex bytes")).toContainText(`000000600000  ${qemuBytes}`);
});

test("a fixed VHD with a FAT partition browses in the Files tab", async ({ page }) => {
  const raw = join(dir, "f.raw");
  execFileSync("truncate", ["-s", `${24 * MiB}`, raw]);
  execFileSync("sfdisk", ["-q", raw], { input: "start=2048, type=6\n" });
  const part = join(dir, "p.img");
  execFileSync("mkfs.fat", ["-F", "16", "-n", "VHDFILES", "-C", part, String(16 * 1024)]);
  writeFileSync(join(dir, "hello.txt"), "hello from a fixed VHD\n");
  execFileSync("mcopy", ["-i", part, join(dir, "hello.txt"), "::/HELLO.TXT"]);
  execFileSync("dd", [`if=${part}`, `of=${raw}`, "bs=1M", "seek=1", "conv=notrunc", "status=none"]);
  const f = join(dir, "fixed.vhd");
  execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", raw, f]);
  await open(page, f);
  await page.getByRole("tab", { name: "Files" }).click();
  const parts = page.getByRole("table", { name: "Partitions and file systems" });
  await expect(parts).toContainText("VHDFILES");
  await parts.getByRole("row").filter({ hasText: "VHDFILES" }).click();
  await expect(page.getByRole("grid", { name: "Folder contents" })).toContainText("HELLO.TXT");
});
