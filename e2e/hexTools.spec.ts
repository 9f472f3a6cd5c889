/**
 * The hex view's tools on a QEMU-made image: the data inspector (values read at the cursor,
 * checked against the file's bytes decoded in Node; a value typed there staged), the raw file's
 * protected ranges (shaded, and typing there refused at once), Go to with relative offsets and
 * structure names (the row lands on top), and named bookmarks kept per file and view.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let dir = "";
let plain = "";

interface Info {
  regions: { name: string; fileOffset: number }[];
  headers: { fileOffset: number; fileWriteGuid: string | null }[];
  log: { offset: number };
}
const info = (file: string): Info =>
  JSON.parse(execFileSync("node", ["bin/vhdx.cjs", "info", file, "--json"], { encoding: "utf8" })) as Info;

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-hextools-"));
  plain = join(dir, "tools.vhdx");
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", plain, "16M"]);
  // 0x12345678 little-endian, then "A€" in UTF-8, at virtual offset 1 MiB.
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x41 1M 4k", plain], { stdio: "ignore" });
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openHex(page: Page): Promise<void> {
  await page.goto("/");
  await page.locator('input[type="file"]').setInputFiles(plain);
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await expect(page.locator(".hex-grid")).toBeVisible();
}

async function goTo(page: Page, text: string): Promise<void> {
  const input = page.getByLabel("Go to offset");
  await input.fill(text);
  await input.press("Enter");
}

const inspector = (page: Page) => page.getByRole("table", { name: "Values at the cursor" });

test("the inspector reads the bytes at the cursor and stages a typed value", async ({ page }) => {
  const want = info(plain);
  const file = readFileSync(plain);
  await openHex(page);
  await page.getByRole("radio", { name: "Raw file" }).click();
  // Header 1's FileWriteGuid at +16, sequence number at +8 (§2.2.2).
  const h = want.headers[0].fileOffset;
  await goTo(page, `0x${(h + 16).toString(16)}`);
  await expect(inspector(page).getByLabel("GUID", { exact: true })).toHaveValue(
    want.headers[0].fileWriteGuid as string,
  );
  await goTo(page, `0x${(h + 8).toString(16)}`);
  await expect(inspector(page).getByLabel("u64", { exact: true })).toHaveValue(String(file.readBigUInt64LE(h + 8)));
  await page.getByRole("radio", { name: "Big-endian" }).click();
  await expect(inspector(page).getByLabel("u64", { exact: true })).toHaveValue(String(file.readBigUInt64BE(h + 8)));
  await expect(inspector(page).getByLabel("u16", { exact: true })).toHaveValue(String(file.readUInt16BE(h + 8)));

  await page.getByRole("radio", { name: "Virtual disk" }).click();
  await goTo(page, "1 MiB");
  await expect(inspector(page).getByLabel("UTF-8", { exact: true })).toHaveValue("A (U+0041)");
  await page.getByRole("radio", { name: "Little-endian" }).click();
  const u32 = inspector(page).getByLabel("u32", { exact: true });
  await expect(u32).toHaveValue(String(0x41414141));
  await u32.fill("0x12345678");
  await u32.press("Enter");
  await expect(page.getByRole("list", { name: "Staged writes" })).toContainText("virtual 0x10_0000 4 B 78 56 34 12");
  await expect(u32).toHaveValue(String(0x12345678));
  await expect(page.locator(".hex-row").nth(1)).toContainText("7856341241");
  await page.getByRole("button", { name: "Undo", exact: true }).click(); // one undo step
  await expect(page.getByRole("list", { name: "Staged writes" })).toHaveCount(0);
  await u32.fill("4294967296");
  await u32.press("Enter");
  await expect(page.getByRole("alert")).toContainText("u32 holds 0 to 4294967295");
});

test("the raw file's protected ranges are shaded and refuse typing at once", async ({ page }) => {
  const bat = info(plain).regions.find((r) => r.name === "BAT")!.fileOffset;
  await openHex(page);
  await page.getByRole("radio", { name: "Raw file" }).click();
  const first = page.locator(".hex-row").nth(1);
  await expect(first).toContainText("vhdxfile");
  await expect(first.locator(".hx.prot")).toHaveCount(16);
  await expect(first.locator(".hx").first()).toHaveAttribute("title", /file type identifier/);
  await expect(page.getByLabel("Protection at the cursor")).toContainText("file type identifier");
  await page.locator(".hex-grid").focus();
  await page.keyboard.type("ff");
  await expect(page.getByRole("status").filter({ hasText: "refused" })).toContainText(
    "Raw file edit refused: the file type identifier",
  );
  await expect(first).toContainText("7668"); // "vh" unchanged
  await expect(page.getByText("No edits.")).toBeVisible();
  // The BAT takes raw edits.
  await goTo(page, `0x${bat.toString(16)}`);
  await expect(page.locator(".hex-row").nth(1).locator(".hx.prot")).toHaveCount(0);
  await expect(page.getByLabel("Protection at the cursor")).toContainText("can be edited");
  await page.keyboard.type("07");
  await expect(page.getByRole("list", { name: "Staged writes" })).toContainText(
    `file 0x${bat.toString(16).replace(/(?=(?:[0-9a-f]{4})+$)(?!^)/g, "_")} 1 B 07`,
  );
  await expect(page.locator(".stage-refusal")).toHaveText("");
});

/** The offset column's text for a file offset (groups of four hex digits). */
const offText = (o: number) =>
  o
    .toString(16)
    .padStart(8, "0")
    .replace(/^(.{4})/, "$1_");

test("Go to lands the target row at the top: relative steps, structure names, Ctrl+G", async ({ page }) => {
  const want = info(plain);
  const bat = want.regions.find((r) => r.name === "BAT")!.fileOffset;
  await openHex(page);
  const top = page.locator(".hex-row").nth(1).locator(".hex-off");
  await expect(top).toHaveText(offText(0));
  // A target already on screen still comes to the top.
  await page.locator(".hex-grid").focus();
  await page.keyboard.press("Control+g");
  await expect(page.getByLabel("Go to offset")).toBeFocused();
  await page.keyboard.type("+0x40");
  await page.keyboard.press("Enter");
  await expect(top).toHaveText(offText(0x40));
  await expect(page.locator(".hx.cursor")).toHaveAttribute("data-off", String(0x40));
  await goTo(page, "+4 KiB");
  await expect(top).toHaveText(offText(0x1040));
  await goTo(page, "-1 sector");
  await expect(top).toHaveText(offText(0x1040 - 512));
  // A structure name switches to the raw file.
  await goTo(page, "bat");
  await expect(page.getByRole("radio", { name: "Raw file" })).toHaveAttribute("aria-checked", "true");
  await expect(top).toHaveText(offText(bat));
  await goTo(page, "header 2");
  await expect(top).toHaveText(offText(want.headers[1].fileOffset));
  await goTo(page, "log");
  await expect(top).toHaveText(offText(want.log.offset));
  await goTo(page, "-0x1_0000_0000");
  await expect(page.getByRole("alert")).toContainText("before the start");
});

test("bookmarks: added with Ctrl+B, renamed, jumped to, kept per file and view, deleted", async ({ page }) => {
  await openHex(page);
  await goTo(page, "0x8000");
  await page.keyboard.press("Control+b");
  const name = page.getByLabel("Name of the bookmark at 0x8000");
  await expect(name).toBeFocused();
  await name.fill("partition start");
  await name.press("Enter");
  const list = page.getByRole("list", { name: "Bookmarks" });
  await expect(list).toContainText("partition start");
  // The raw file has its own list.
  await page.getByRole("radio", { name: "Raw file" }).click();
  await expect(page.getByRole("list", { name: "Bookmarks" })).toHaveCount(0);
  await goTo(page, "metadata");
  await page.getByRole("button", { name: "Add at cursor" }).click();
  await page.getByLabel(/^Name of the bookmark at/).press("Enter");
  await expect(page.getByRole("list", { name: "Bookmarks" })).toContainText("File 0x");

  // Opened again, the same file finds both lists.
  await openHex(page);
  await expect(list).toContainText("partition start");
  await list.getByRole("button", { name: "partition start", exact: true }).click();
  await expect(page.locator(".hex-row").nth(1).locator(".hex-off")).toHaveText(offText(0x8000));
  await expect(page.locator(".hx.cursor")).toHaveAttribute("data-off", String(0x8000));
  await list.getByRole("button", { name: "Rename partition start" }).click();
  await page.getByLabel("Name of the bookmark at 0x8000").fill("renamed");
  await page.getByLabel("Name of the bookmark at 0x8000").press("Enter");
  await expect(list).toContainText("renamed");
  await list.getByRole("button", { name: "Delete renamed" }).click();
  await expect(page.getByRole("list", { name: "Bookmarks" })).toHaveCount(0);
  await page.getByRole("radio", { name: "Raw file" }).click();
  await expect(page.getByRole("list", { name: "Bookmarks" })).toHaveCount(1);
});
