/**
 * Flow and wording: a file that is not a VHDX says what it is; read-only says why, with Enable
 * editing where the user is; a disabled Replay gives its reason as text; notes of one code are
 * grouped and finding locations read "<structure> at <offset>"; plurals; a copy's note goes
 * away; Save back writes the working copy over its original only when that file is unchanged.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gotoApp, opfsHash, opfsNames, openPicked, stubPickers, willPick } from "./pickerStubs";

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-flow-"));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

const qemuImage = (name: string, format = "vhdx") => {
  const p = join(dir, name);
  execFileSync("qemu-img", ["create", "-q", "-f", format, p, "8M"]);
  return p;
};

// A VHD opens in its own views (vhdEditor.spec.ts); the formats the editor does not read say what they are.
test("a VMDK, a qcow2 and a raw GPT disk opened as VHDX say what they are, without escaped bytes", async ({ page }) => {
  await gotoApp(page);
  const raw = join(dir, "gpt.img");
  execFileSync("truncate", ["-s", "8M", raw]);
  execFileSync("sgdisk", ["-n", "1:2048:0", raw], { stdio: "ignore" });
  for (const [file, want] of [
    [qemuImage("vm.vmdk", "vmdk"), "this is a VMware VMDK disk (sparse extent), not a VHDX file — convert it with"],
    [qemuImage("vm.qcow2", "qcow2"), "this is a QEMU qcow2 disk (version 3), not a VHDX file"],
    [raw, "this is a raw disk image with a GPT partition table (512-byte sectors), not a VHDX file"],
  ] as const) {
    await page.getByLabel("Choose a VHDX file").setInputFiles(file);
    const alert = page.getByRole("alert");
    await expect(alert).toContainText(want);
    await expect(alert).not.toContainText("\\u0000");
    await expect(alert).not.toContainText("signature is");
    await page.getByRole("button", { name: "Dismiss error" }).click();
  }
});

test("read-only says why and offers Enable editing in a banner; notes grouped; 1 step; locations spaced", async ({
  page,
}) => {
  await stubPickers(page, { "q.vhdx": qemuImage("q.vhdx") });
  await openPicked(page, "q.vhdx");
  const banner = page.getByRole("status", { name: "Read-only" });
  await expect(banner).toContainText("Read-only. Files open read-only until you choose Enable editing");
  await expect(page.getByText("as asked")).toHaveCount(0);

  // QEMU's two region entries without Required are one grouped note; "region table entry 0 at 0x…".
  await page.getByRole("button", { name: /^Findings/ }).click();
  const findings = page.getByRole("complementary", { name: "Findings" });
  const group = findings.getByRole("listitem").filter({ hasText: "REGION_NOT_REQUIRED" });
  await expect(group).toHaveCount(1);
  await expect(group).toContainText("REGION_NOT_REQUIRED × 2");
  await expect(group).toContainText("region table entry 0 at 0x3_002c");
  await expect(group).toContainText("region table entry 1 at 0x3_004c");
  await expect(findings).toContainText("file at 0x40_0000");
  await page.screenshot({ path: "e2e/screenshots/flow-readonly-findings.png" });

  // Enable editing from the banner, on the Headers tab where the user is.
  await banner.getByRole("button", { name: "Enable editing" }).click();
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("editable");
  await expect(banner).toHaveCount(0);
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await page.getByLabel("Go to offset").fill("0x200");
  await page.getByLabel("Go to offset").press("Enter");
  await page.keyboard.type("ab");
  await expect(page.getByText("1 byte staged in 1 step.")).toBeVisible();
});

async function openSampleHex(page: Page): Promise<void> {
  await gotoApp(page);
  await page.getByRole("button", { name: "Open sample" }).first().click();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("sample.vhdx");
}

test("Replay now, unavailable, says why as text; a copy's note goes when the cursor moves", async ({ page }) => {
  await openSampleHex(page);
  const why = page.getByRole("note", { name: "Why Replay now is unavailable" });
  await expect(why).toBeVisible();
  await expect(why).toContainText("The image is open read-only: opened from a dropped or chosen file");
  await expect(page.getByRole("status", { name: "Read-only" }).getByRole("button")).toHaveText("Edit a working copy");

  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await page.getByRole("button", { name: "Copy as Text" }).click();
  const note = page.getByText("Copied 1 byte as Text.");
  await expect(note).toBeVisible();
  await page.getByLabel("Go to offset").fill("0x10");
  await page.getByLabel("Go to offset").press("Enter");
  await expect(note).toHaveCount(0);
  // Left alone, the note also goes by itself after a few seconds.
  await page.getByRole("button", { name: "Copy as Text" }).click();
  await expect(note).toBeVisible();
  await expect(note).toHaveCount(0, { timeout: 15_000 });
});

test("Save back: the working copy replaces its original only when confirmed and only while it is unchanged", async ({
  page,
}) => {
  await stubPickers(page, { "orig.vhdx": qemuImage("orig.vhdx") });
  // The original arrives as a dropped File (no write access), as from a file manager.
  await page.evaluate(async () => {
    const f = await (await (await navigator.storage.getDirectory()).getFileHandle("orig.vhdx")).getFile();
    const dt = new DataTransfer();
    dt.items.add(f);
    for (const type of ["dragenter", "dragover", "drop"])
      document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("orig.vhdx");
  const before = await opfsHash(page, "orig.vhdx");
  await page.getByRole("status", { name: "Read-only" }).getByRole("button", { name: "Edit a working copy" }).click();
  await expect(status).toContainText("orig.vhdx (working copy)");
  await expect(status).toContainText("editable");

  const commitEdit = async (at: string, hex: string) => {
    await page.getByRole("tab", { name: "Hex", exact: true }).click();
    await page.getByLabel("Go to offset").fill(at);
    await page.getByLabel("Go to offset").press("Enter");
    await page.keyboard.type(hex);
    await page.getByRole("button", { name: "Commit", exact: true }).click();
    const commit = page.getByRole("dialog");
    await commit.getByRole("button", { name: "Commit", exact: true }).click();
    await expect(commit).toContainText("Committed.");
    await commit.getByRole("button", { name: "Close", exact: true }).click();
  };
  await commitEdit("0x200", "c0ffee");
  const [copy] = await opfsNames(page, "working-copies");
  const copyHash = await opfsHash(page, `working-copies/${copy}`);
  expect(copyHash).not.toBe(before);

  // Nothing is written before the original is chosen and the replacement confirmed by name.
  await status.getByRole("button", { name: "Save back…" }).click();
  const d = page.getByRole("dialog", { name: "Save back to the original" });
  await expect(d.getByRole("note")).toHaveText("To save back, choose the original file.");
  await expect(d.getByRole("button", { name: "Replace the original" })).toBeDisabled();
  await willPick(page, "orig.vhdx");
  await d.getByRole("button", { name: "Choose the original…" }).click();
  expect(await opfsHash(page, "orig.vhdx")).toBe(before);
  await page.screenshot({ path: "e2e/screenshots/flow-save-back.png" });
  await d.getByRole("button", { name: "Replace orig.vhdx" }).click();
  await expect(d.getByRole("status", { name: "Save back result" })).toContainText("Saved back: orig.vhdx now holds");
  expect(await opfsHash(page, "orig.vhdx")).toBe(copyHash);
  await d.getByRole("button", { name: "Close" }).click();

  // The original changes behind the editor's back: Save back refuses and writes nothing.
  await commitEdit("0x400", "beef");
  await page.evaluate(async () => {
    const h = await (await navigator.storage.getDirectory()).getFileHandle("orig.vhdx");
    const w = await h.createWritable({ keepExistingData: true });
    // Inside the first MiB (the file identifier's reserved bytes), as another program's write might land.
    await w.write({ type: "write", position: 0x1000, data: new Uint8Array([1, 2, 3]) });
    await w.close();
  });
  const changed = await opfsHash(page, "orig.vhdx");
  await status.getByRole("button", { name: "Save back…" }).click();
  await willPick(page, "orig.vhdx");
  await d.getByRole("button", { name: "Choose the original…" }).click();
  await d.getByRole("button", { name: "Replace orig.vhdx" }).click();
  await expect(d.getByRole("alert")).toContainText(
    "orig.vhdx is not the file the working copy was made from as it was then",
  );
  expect(await opfsHash(page, "orig.vhdx")).toBe(changed);
});
