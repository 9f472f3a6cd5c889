/**
 * The Files tab in Chromium on disks made by the real tools: a WSL-style ext4 VHDX (a file system
 * at offset 0, made by mke2fs -d from a generated tree, converted by qemu-img) and a GPT disk with a
 * FAT32 partition (sgdisk, mkfs.fat, mcopy). Browse to a nested file, Extract it through the save
 * picker (answered with an OPFS file) and compare its bytes in Node; extract a folder as a .zip
 * and read it back with Python's zipfile; Show in hex lands on the file's first byte and names the
 * file; the BAT view highlights its blocks. And a GPT disk with an NTFS partition (mkntfs, ntfs-3g):
 * its alternate data stream listed, the metafiles hidden, a file extracted.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeExfat } from "../test/fs/exfat/fixture";
import { fromOpfs } from "./opfsFiles";

const MiB = 1024 * 1024;
let dir = "";
let ext4Vhdx = "";
let fatVhdx = "";
let ntfsVhdx = "";
let exfatVhdx = "";
const REPORT = bytes(11, 300_000);
const PHOTO = bytes(21, 250_000);
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function bytes(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const NESTED = "home/user/projects/vhdx/notes/todo.txt";
const NESTED_BYTES = bytes(7, 200_000);

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-files-e2e-"));
  mkdirSync("e2e/screenshots", { recursive: true });
  const tree = join(dir, "tree");
  mkdirSync(join(tree, "home/user/projects/vhdx/notes"), { recursive: true });
  mkdirSync(join(tree, "etc"), { recursive: true });
  writeFileSync(join(tree, NESTED), NESTED_BYTES);
  writeFileSync(join(tree, "etc/hostname"), "studio\n");
  for (let i = 0; i < 40; i++) writeFileSync(join(tree, `home/user/file-${i}.txt`), bytes(i, 100 * i + 1));
  const ext4 = join(dir, "ext4.img");
  execFileSync("mke2fs", ["-q", "-t", "ext4", "-L", "wsl-root", "-d", tree, ext4, "64M"]);
  ext4Vhdx = join(dir, "ext4.vhdx");
  execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic", ext4, ext4Vhdx]);

  const part = join(dir, "fat.img");
  execFileSync("mkfs.fat", ["-F", "32", "-n", "USBSTICK", "-C", part, String(40 * 1024)]);
  execFileSync("mcopy", ["-s", "-i", part, join(tree, "home"), join(tree, "etc"), "::/"]);
  const raw = join(dir, "gpt.raw");
  execFileSync("truncate", ["-s", `${48 * MiB}`, raw]);
  execFileSync("sgdisk", ["-n", "1:2048:+40M", "-t", "1:0700", "-c", "1:usb data", raw]);
  execFileSync("dd", [`if=${part}`, `of=${raw}`, "bs=1M", "seek=1", "conv=notrunc", "status=none"]);
  fatVhdx = join(dir, "gpt.vhdx");
  execFileSync("qemu-img", [
    "convert",
    "-f",
    "raw",
    "-O",
    "vhdx",
    "-o",
    "subformat=dynamic,block_size=1M",
    raw,
    fatVhdx,
  ]);
});

test.beforeAll(() => {
  // A Windows-style disk: GPT, one NTFS partition made by mkntfs and filled through ntfs-3g.
  const part = join(dir, "ntfs.img");
  execFileSync("truncate", ["-s", "40M", part]);
  execFileSync("mkntfs", ["-q", "-F", "-Q", "-L", "Windows", part], { stdio: "ignore" });
  const mnt = join(dir, "ntfs-mnt");
  mkdirSync(mnt);
  execFileSync("ntfs-3g", [part, mnt]);
  try {
    mkdirSync(join(mnt, "Users/Public/Documents"), { recursive: true });
    writeFileSync(join(mnt, "Users/Public/Documents/report.docx"), REPORT);
    execFileSync("setfattr", [
      "-n",
      "user.Zone.Identifier",
      "-v",
      "ZoneId=3",
      join(mnt, "Users/Public/Documents/report.docx"),
    ]);
  } finally {
    execFileSync("fusermount", ["-u", mnt]);
  }
  ntfsVhdx = inGpt(part, "ntfs-gpt", "Basic data partition");
});

test.beforeAll(() => {
  // A camera card's layout: GPT, one exFAT partition made by mkfs.exfat and filled through exfat-fuse.
  const part = join(dir, "exfat.img");
  makeExfat(dir, part, 40, { label: "CAMERA" }, (mnt) => {
    mkdirSync(join(mnt, "DCIM/100CANON"), { recursive: true });
    writeFileSync(join(mnt, "DCIM/100CANON/IMG_0001.JPG"), PHOTO);
    writeFileSync(join(mnt, "DCIM/100CANON/Ünïcödé notes.txt"), "exFAT keeps UTF-16 names\n");
  });
  exfatVhdx = inGpt(part, "exfat-gpt", "camera card");
});

/** A 40 MiB partition image placed at 1 MiB of a 48 MiB GPT disk (sgdisk), converted to a dynamic VHDX. */
function inGpt(part: string, name: string, label: string): string {
  const raw = join(dir, `${name}.raw`);
  execFileSync("truncate", ["-s", `${48 * MiB}`, raw]);
  execFileSync("sgdisk", ["-n", "1:2048:+40M", "-t", "1:0700", "-c", `1:${label}`, raw]);
  execFileSync("dd", [`if=${part}`, `of=${raw}`, "bs=1M", "seek=1", "conv=notrunc", "status=none"]);
  const vhdx = join(dir, `${name}.vhdx`);
  execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic", raw, vhdx]);
  return vhdx;
}

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(page: Page, file: string): Promise<void> {
  await page.goto("/");
  await page.locator('input[type="file"]').setInputFiles(file);
  await expect(page.getByRole("tab", { name: "Headers" })).toBeVisible();
  await page.getByRole("tab", { name: "Files", exact: true }).click();
}

/** The save picker answers with an OPFS file named `name`; the test reads it back with fromOpfs. */
async function stubSavePicker(page: Page, name: string): Promise<void> {
  await page.evaluate(async (fileName) => {
    const root = await navigator.storage.getDirectory();
    const handle = await root.getFileHandle(fileName, { create: true });
    (window as unknown as { showSaveFilePicker: () => Promise<FileSystemFileHandle> }).showSaveFilePicker = async () =>
      handle;
  }, name);
}

async function openFolder(page: Page, name: string): Promise<void> {
  const grid = page.getByRole("grid", { name: "Folder contents" });
  await grid.getByRole("row").filter({ hasText: name }).first().dblclick();
  await expect(page.getByRole("navigation", { name: "Folder path" })).toContainText(name);
}

test("a WSL-style ext4 disk: browse to a nested file, Extract it, bytes equal the original", async ({ page }) => {
  await open(page, ext4Vhdx);
  const grid = page.getByRole("grid", { name: "Folder contents" });
  // One file system on the whole disk: it opens at once.
  await expect(page.getByRole("navigation", { name: "Folder path" })).toContainText("Whole disk: ext4 “wsl-root”");
  await expect(grid).toContainText("home");
  for (const p of NESTED.split("/").slice(0, -1)) await openFolder(page, p);
  const row = grid.getByRole("row").filter({ hasText: "todo.txt" });
  await expect(row).toContainText("195 KiB");
  await expect(row.getByRole("gridcell").nth(1)).toHaveAttribute("title", "200,000 bytes");
  await row.click();
  await page.screenshot({ path: "e2e/screenshots/files.png" });
  await stubSavePicker(page, "todo-extracted.txt");
  await page.getByRole("button", { name: "Extract", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Extracted" })).toContainText("todo-extracted.txt");
  const out = await fromOpfs(page, "todo-extracted.txt", join(dir, "todo-extracted.txt"));
  expect(sha(readFileSync(out))).toBe(sha(NESTED_BYTES));

  // Show in hex: the cursor at the file's first byte, and the owner line names the file.
  await page.getByRole("button", { name: "Show in hex" }).click();
  await expect(page.getByRole("tab", { name: "Hex", exact: true })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByLabel("Owner of the byte at the cursor")).toContainText(`/${NESTED}, byte 0 of the file`);
});

test("a GPT disk with a FAT32 partition: the partition table, a folder extracted as a zip, the BAT highlight", async ({
  page,
}) => {
  await open(page, fatVhdx);
  const parts = page.getByRole("table", { name: "Partitions and file systems" });
  await expect(parts).toContainText("usb data");
  await expect(parts).toContainText("fat32");
  await expect(parts).toContainText("USBSTICK");
  await page.screenshot({ path: "e2e/screenshots/files-partitions.png" });
  await parts.getByRole("row").filter({ hasText: "usb data" }).click();
  const grid = page.getByRole("grid", { name: "Folder contents" });
  await expect(grid).toContainText("etc");
  await openFolder(page, "home");
  await grid.getByRole("row").filter({ hasText: "user" }).click();
  await stubSavePicker(page, "user.zip");
  await page.getByRole("button", { name: "Extract", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Extracted" })).toContainText("41 files");
  const zip = await fromOpfs(page, "user.zip", join(dir, "user.zip"));
  const names = JSON.parse(
    execFileSync("python3", [
      "-c",
      "import zipfile,sys,json;z=zipfile.ZipFile(sys.argv[1]);print(json.dumps(sorted(i.filename for i in z.infolist())))",
      zip,
    ]).toString(),
  ) as string[];
  expect(names).toContain("projects/vhdx/notes/todo.txt");
  expect(names.filter((n) => /^file-\d+\.txt$/.test(n))).toHaveLength(40);

  await openFolder(page, "user");
  // Only the rows on screen are drawn: End selects the last entry and scrolls to it.
  await grid.focus();
  await page.keyboard.press("End");
  await expect(grid.getByRole("row", { selected: true })).toContainText("file-39.txt");
  await page.getByRole("button", { name: "Show blocks in BAT" }).click();
  await expect(page.getByRole("tab", { name: "BAT", exact: true })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("status").filter({ hasText: "/home/user/file-39.txt" })).toContainText("1 block");
  await page.screenshot({ path: "e2e/screenshots/files-bat.png" });
});

test("a GPT disk with an NTFS partition: browse, see the alternate data stream, Extract", async ({ page }) => {
  await open(page, ntfsVhdx);
  const parts = page.getByRole("table", { name: "Partitions and file systems" });
  await expect(parts).toContainText("Basic data partition");
  await expect(parts).toContainText("ntfs");
  const grid = page.getByRole("grid", { name: "Folder contents" });
  await expect(grid).toContainText("Users");
  // The metafiles ($MFT, $LogFile …) are not listed.
  await expect(grid).not.toContainText("$MFT");
  for (const p of ["Users", "Public", "Documents"]) await openFolder(page, p);
  await expect(grid.getByRole("row").filter({ hasText: "report.docx:Zone.Identifier" })).toContainText("8 B");
  await grid
    .getByRole("row")
    .filter({ hasText: /report\.docx(?!:)/ })
    .first()
    .click();
  await page.screenshot({ path: "e2e/screenshots/files-ntfs.png" });
  await stubSavePicker(page, "report-extracted.docx");
  await page.getByRole("button", { name: "Extract", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Extracted" })).toContainText("report-extracted.docx");
  const out = await fromOpfs(page, "report-extracted.docx", join(dir, "report-extracted.docx"));
  expect(sha(readFileSync(out))).toBe(sha(REPORT));
});

test("a GPT disk with an exFAT partition: browse, Extract, bytes equal the original", async ({ page }) => {
  await open(page, exfatVhdx);
  const parts = page.getByRole("table", { name: "Partitions and file systems" });
  await expect(parts).toContainText("camera card");
  await expect(parts).toContainText("exfat");
  const grid = page.getByRole("grid", { name: "Folder contents" });
  for (const p of ["DCIM", "100CANON"]) await openFolder(page, p);
  await expect(grid).toContainText("Ünïcödé notes.txt");
  await grid.getByRole("row").filter({ hasText: "IMG_0001.JPG" }).first().click();
  await stubSavePicker(page, "IMG_0001-extracted.JPG");
  await page.getByRole("button", { name: "Extract", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Extracted" })).toContainText("IMG_0001-extracted.JPG");
  const out = await fromOpfs(page, "IMG_0001-extracted.JPG", join(dir, "IMG_0001-extracted.JPG"));
  expect(sha(readFileSync(out))).toBe(sha(PHOTO));
});
