/**
 * No job replaces a file in browser storage unless the user confirmed that name, and none writes
 * onto the open image or its own input. The two sequences that once lost data come first: a
 * second Compact with the default name wrote over its own open source, and a second New image
 * with the default name replaced an edited image with an empty one.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromOpfs } from "./opfsFiles";
import { opfsHash, opfsNames, openPicked, stubPickers } from "./pickerStubs";

const qemu = (...args: string[]) => execFileSync("qemu-img", args, { encoding: "utf8" });

test.setTimeout(180_000);

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-noover-"));
  mkdirSync("e2e/screenshots", { recursive: true });
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 32 MiB dynamic image by QEMU with a written block and a block of written zeros. */
function looseImage(name: string): string {
  const p = join(dir, name);
  qemu("create", "-q", "-f", "vhdx", "-o", "block_size=1M", p, "32M");
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0 0 4M", "-c", "write -P 0x33 9M 1M", p], { stdio: "ignore" });
  return p;
}

async function compactWithDefaultName(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Convert" }).click();
  const d = page.getByRole("dialog", { name: "Convert" });
  await d.getByRole("radio", { name: "Compact" }).click();
  await d.getByRole("button", { name: "Compact", exact: true }).click();
  await expect(d.getByText("Compact: done.")).toBeVisible();
  await d.getByRole("button", { name: "Close" }).click();
}

test("Compact twice with the default name: the first result, open in the editor, is kept", async ({ page }) => {
  const loose = looseImage("loose.vhdx");
  await stubPickers(page, { "loose.vhdx": loose });
  await openPicked(page, "loose.vhdx");
  await compactWithDefaultName(page);
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("converted.vhdx");
  const first = await opfsHash(page, "toolbox/converted.vhdx");
  expect(first).not.toBeNull();

  // Again, from the open converted.vhdx, with the name the dialog offers.
  await compactWithDefaultName(page);
  await expect(status).toContainText("converted (2).vhdx");
  expect(await opfsHash(page, "toolbox/converted.vhdx")).toBe(first);
  expect(await opfsNames(page, "toolbox")).toEqual(["converted (2).vhdx", "converted.vhdx"]);
  // Both read as the source in QEMU.
  for (const name of ["converted.vhdx", "converted (2).vhdx"]) {
    const out = await fromOpfs(page, `toolbox/${name}`, join(dir, name));
    qemu("compare", "-f", "vhdx", "-F", "vhdx", out, loose);
  }
});

test("New image twice with the default name: the edited first image is kept", async ({ page }) => {
  await stubPickers(page, {});
  const newImage = async () => {
    await page.getByRole("button", { name: "New image" }).click();
    const d = page.getByRole("dialog", { name: "New image" });
    await d.getByRole("button", { name: "Create" }).click();
    await expect(d.getByText("New image: done.")).toBeVisible();
    await d.getByRole("button", { name: "Close" }).click();
  };
  await newImage();
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("new.vhdx");
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await page.getByRole("button", { name: "Enable editing" }).click();
  await expect(status).toContainText("editable");
  await page.getByLabel("Go to offset").fill("0x100");
  await page.getByLabel("Go to offset").press("Enter");
  await page.keyboard.type("c0ffee");
  await page.getByRole("button", { name: "Commit", exact: true }).click();
  const commit = page.getByRole("dialog");
  await commit.getByRole("button", { name: "Commit", exact: true }).click();
  await expect(commit).toContainText("Committed.");
  await commit.getByRole("button", { name: "Close", exact: true }).click();
  const edited = await opfsHash(page, "toolbox/new.vhdx");

  await newImage();
  await expect(status).toContainText("new (2).vhdx");
  expect(await opfsHash(page, "toolbox/new.vhdx")).toBe(edited);
  const out = await fromOpfs(page, "toolbox/new.vhdx", join(dir, "new.vhdx"));
  const bytes = execFileSync("node", ["bin/vhdx.cjs", "cat", out, "--offset", "256", "--length", "3"]);
  expect(Array.from(bytes)).toEqual([0xc0, 0xff, 0xee]);
});

test("a typed name that is taken: the open image's cannot be used, another is replaced only when agreed", async ({
  page,
}) => {
  await stubPickers(page, {});
  const d = page.getByRole("dialog", { name: "New image" });
  const name = d.getByRole("textbox", { name: "Output name" });
  const create = d.getByRole("button", { name: "Create" });
  const status = page.getByRole("contentinfo", { name: "Status" });
  const newImage = async (typed: string | null) => {
    await page.getByRole("button", { name: "New image" }).click();
    if (typed !== null) await name.fill(typed);
  };
  await newImage(null);
  await expect(name).toHaveValue("new.vhdx");
  await create.click();
  await expect(d.getByText("New image: done.")).toBeVisible();
  await expect(status).toContainText("new.vhdx");
  // The default moves on to a free name at once.
  await expect(name).toHaveValue("new (2).vhdx");
  await d.getByRole("button", { name: "Close" }).click();

  // The open image's name: refused, whatever the user would agree to.
  await newImage("new");
  const taken = d.getByRole("note", { name: "Name already in browser storage" });
  await expect(taken).toContainText("toolbox/new.vhdx is in browser storage and it is open in the editor");
  await expect(taken.getByRole("checkbox")).toHaveCount(0);
  await expect(create).toBeDisabled();
  await page.screenshot({ path: "e2e/screenshots/toolbox-output-open.png" });
  // Another name, so new.vhdx is no longer open.
  await name.fill("other");
  await expect(taken).toHaveCount(0);
  await create.click();
  await expect(d.getByText("New image: done.")).toBeVisible();
  await expect(status).toContainText("other.vhdx");
  const before = await opfsHash(page, "toolbox/new.vhdx");

  // A taken name that is not open: Create waits until the user agrees to replace it.
  await name.fill("new");
  await d.getByLabel("Virtual size").fill("8M");
  const replace = taken.getByRole("checkbox", { name: /Replace the existing toolbox\/new\.vhdx \(4 MiB, modified / });
  await expect(replace).not.toBeChecked();
  await expect(create).toBeDisabled();
  await page.screenshot({ path: "e2e/screenshots/toolbox-output-replace.png" });
  expect(await opfsHash(page, "toolbox/new.vhdx")).toBe(before);
  await replace.check();
  await create.click();
  await expect(d.getByText("New image: done.")).toBeVisible();
  await expect(status).toContainText("new.vhdx");
  expect(await opfsHash(page, "toolbox/new.vhdx")).not.toBe(before);
  expect(await opfsNames(page, "toolbox")).toEqual(["new.vhdx", "other.vhdx"]); // nothing .partial or .replaced left
  const out = await fromOpfs(page, "toolbox/new.vhdx", join(dir, "replaced.vhdx"));
  const info = JSON.parse(qemu("info", "--output=json", "-f", "vhdx", out)) as { "virtual-size": number };
  expect(info["virtual-size"]).toBe(8 * 1024 * 1024);
});
