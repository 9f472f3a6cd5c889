/**
 * A VHD (v1) opened in the editor: a dynamic disk made by qemu-img and written by qemu-io shows
 * its footer, dynamic header and BAT as `vhdx info --json` reports them, read-only with the way
 * to VHDX offered; the hex grid shows qemu's bytes at an offset and refuses edits; a differencing
 * VHD says which parent it needs, takes it from the picker and then reads through it as qemu-io
 * reads the parent; a fixed VHD holding a FAT file system (mkfs.fat, mcopy) browses in Files.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDynamicVhd, writeVhd } from "../test/helpers/buildVhd";
import { openPicked, stubPickers, willPick } from "./pickerStubs";

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
  const expected = execFileSync("qemu-io", ["-f", "vpc", "-r", "-c", `read -v ${6 * MiB} 16`, src]).toString();
  // qemu-io prints "00600000:  c3 c3 …" for the first 16 bytes.
  const qemuBytes = expected.split("\n")[0].split(/\s+/).slice(1, 17).join("");
  expect(qemuBytes).toBe("c3".repeat(16));
  await goTo(page, String(6 * MiB));
  await expect(page.locator(".hex-row").nth(1)).toContainText("0060_0000");
  await expect(page.locator(".hex-row").nth(1)).toContainText(qemuBytes);
  // Read-only: a typed digit is refused with the reason.
  await page.locator(".hex-grid").press("a");
  await expect(page.getByRole("note", { name: "Why edits are refused" })).toContainText("read-only");
  // Go to knows the VHD's structures; the raw file shows the footer's cookie there.
  await page.getByRole("radio", { name: "Raw file" }).click();
  await goTo(page, "footer");
  await expect(page.locator(".hex-row").nth(1)).toContainText(hex(info.footer.offset).slice(2));
  await expect(page.locator(".hex-row").nth(1)).toContainText("conectix");
});

async function goTo(page: Page, where: string): Promise<void> {
  const goto = page.getByLabel("Go to offset");
  await goto.fill(where);
  await goto.press("Enter");
}

/** The first 16 bytes qemu-io reads at `offset` of a VHD, as one run of hex digits. */
function qemuRead(path: string, offset: number): string {
  const out = execFileSync("qemu-io", ["-f", "vpc", "-r", "-c", `read -v ${offset} 16`, path]).toString();
  return out.split("\n")[0].split(/\s+/).slice(1, 17).join("");
}

test("a differencing VHD: the parent it needs, then attached, the hex view reads through the chain", async ({
  page,
}) => {
  const base = join(dir, "base.vhd");
  execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", base, "8M"]);
  execFileSync("qemu-io", ["-f", "vpc", "-c", "write -P 0x5a 0 4M", base], { stdio: "ignore" });
  const b = JSON.parse(execFileSync("node", ["bin/vhdx.cjs", "info", base, "--json"]).toString());
  // QEMU makes no differencing VHD: the child is laid out by hand, its first 4 KiB its own.
  const child = join(dir, "child.vhd");
  writeVhd(
    child,
    buildDynamicVhd({
      size: b.virtualSize,
      uniqueId: "0badc0de-1111-2222-3333-444455556666",
      parent: {
        uniqueId: b.footer.uniqueId,
        timeStamp: b.footer.timeStamp,
        name: "base.vhd",
        locators: [{ code: "W2ru", path: ".\\base.vhd" }],
      },
      blocks: [{ block: 0, present: (s) => s < 8, data: new Uint8Array(2 * MiB).fill(0xc3) }],
    }),
  );
  // Another disk of the same size: not the parent the child names.
  const other = join(dir, "other.vhd");
  execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", other, "8M"]);
  await stubPickers(page, { "child.vhd": child, "base.vhd": base, "other.vhd": other });
  await openPicked(page, "child.vhd");
  await expect(page.getByRole("tab", { name: "Footer" })).toBeVisible();
  const need = page.getByRole("region", { name: "VHD parent" });
  await expect(need).toContainText("base.vhd");
  await expect(need).toContainText(b.footer.uniqueId);
  await expect(need).toContainText("PARENT_NOT_FOUND");

  await willPick(page, "other.vhd");
  await need.getByRole("button", { name: "Attach parent…" }).click();
  await expect(need.getByRole("alert")).toContainText(`the child names ${b.footer.uniqueId}`);

  await willPick(page, "base.vhd");
  await need.getByRole("button", { name: "Attach parent…" }).click();
  const attached = page.getByRole("status", { name: "VHD parent" });
  await expect(attached).toContainText("Parent attached");
  await expect(attached).toContainText(b.footer.uniqueId);

  await page.getByRole("tab", { name: "Hex" }).click();
  await goTo(page, "0");
  await expect(page.locator(".hex-row").nth(1)).toContainText("0000_0000");
  await expect(page.locator(".hex-row").nth(1)).toContainText("c3".repeat(16));
  // Past the child's 4 KiB: the parent's bytes, as qemu-io reads the parent.
  const parentBytes = qemuRead(base, 4096);
  expect(parentBytes).toBe("5a".repeat(16));
  await goTo(page, "0x1000");
  await expect(page.locator(".hex-row").nth(1)).toContainText("0000_1000");
  await expect(page.locator(".hex-row").nth(1)).toContainText(parentBytes);
  // Find reads through the chain too: the first 5a 5a is the parent's, just past the child's 4 KiB.
  await goTo(page, "0");
  await page.locator(".hex-grid").focus();
  await page.keyboard.press("Control+F");
  const find = page.getByRole("textbox", { name: "Find" });
  await find.fill("5a 5a");
  await find.press("Enter");
  await expect(page.getByRole("search", { name: "Find" }).getByRole("status")).toContainText("Found 2 bytes at");
  await expect(page.getByTestId("selection-status")).toContainText("(4096–4097)");
  await goTo(page, String(5 * MiB));
  await expect(page.locator(".hex-row").nth(1)).toContainText(qemuRead(base, 5 * MiB));
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
