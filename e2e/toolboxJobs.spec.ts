/**
 * The toolbox's jobs in the browser, each checked outside it: new images, raw → VHDX → raw,
 * compaction and merging read by qemu-img (fixed and dynamic) and by the engine in Node
 * (bin/vhdx.cjs) as the expected bytes; a differencing image opened with its parent through
 * stubbed pickers returning OPFS handles, its chain and a read through it equal to Node's.
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MiB, sha256 } from "./storageHelpers";
import { fromOpfs } from "./opfsFiles";
import { gotoApp, openPicked, stubPickers, willPick } from "./pickerStubs";

const vhdx = (...args: string[]) =>
  execFileSync("node", ["bin/vhdx.cjs", ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
const cat = (f: string) => sha256(execFileSync("node", ["bin/vhdx.cjs", "cat", f], { maxBuffer: 1 << 30 }));
const qemu = (...args: string[]) => execFileSync("qemu-img", args, { encoding: "utf8" });

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-jobs-"));
  mkdirSync("e2e/screenshots", { recursive: true });
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

function qemuOk(file: string): void {
  execFileSync("qemu-img", ["check", "-f", "vhdx", file], { encoding: "utf8" });
}

test("new dynamic and fixed images: qemu-img and the engine read them as zeros of the asked size", async ({ page }) => {
  await stubPickers(page, {});
  for (const [type, size, bs] of [
    ["dynamic", "64M", "1"],
    ["fixed", "16M", "2"],
  ] as const) {
    await page.getByRole("button", { name: "New image" }).click();
    const d = page.getByRole("dialog", { name: "New image" });
    await d.getByRole("radio", { name: type }).click();
    await d.getByLabel("Virtual size").fill("65T");
    await expect(d.getByText("Must be from one sector up to 64 TiB")).toBeVisible();
    await expect(d.getByRole("button", { name: "Create" })).toBeDisabled();
    await d.getByLabel("Virtual size").fill(size);
    await d.getByLabel("Block size").selectOption({ label: `${bs} MiB` });
    // QEMU reads only 512-byte logical sectors; the physical sector size is free.
    await d.getByLabel("Physical sector size").selectOption({ label: type === "fixed" ? "512 bytes" : "4096 bytes" });
    await d.getByLabel("Output name").fill(`new-${type}`);
    await d.getByRole("radio", { name: "A file I choose…" }).click();
    if (type === "dynamic") {
      await page.screenshot({ path: "e2e/screenshots/toolbox-new-image.png" });
      await d.getByRole("radio", { name: "differencing" }).click();
      await page.evaluate(() => (document.documentElement.dataset.theme = "dark"));
      await page.screenshot({ path: "e2e/screenshots/toolbox-new-image-dark.png" });
      await page.evaluate(() => delete document.documentElement.dataset.theme);
      await d.getByRole("radio", { name: type }).click();
    }
    await d.getByRole("button", { name: "Create" }).click();
    await expect(d.getByText("New image: done.")).toBeVisible();
    await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText(`new-${type}.vhdx`);
    await d.getByRole("button", { name: "Close" }).click();
    const out = await fromOpfs(page, `new-${type}.vhdx`, join(dir, `new-${type}.vhdx`));
    qemuOk(out);
    const qi = JSON.parse(qemu("info", "--output=json", "-f", "vhdx", out)) as { "virtual-size": number };
    expect(qi["virtual-size"]).toBe(Number.parseInt(size) * MiB);
    const info = JSON.parse(vhdx("info", out, "--json")) as {
      diskType: string;
      blockSize: number;
      physicalSectorSize: number;
    };
    expect(info).toMatchObject({
      diskType: type,
      blockSize: Number(bs) * MiB,
      physicalSectorSize: type === "fixed" ? 512 : 4096,
    });
    // A sparse raw file of zeros of the asked size.
    const zeros = join(dir, `zeros-${type}.raw`);
    writeFileSync(zeros, "");
    truncateSync(zeros, Number.parseInt(size) * MiB);
    qemu("compare", "-f", "vhdx", "-F", "raw", out, zeros);
    expect(cat(out)).toBe(sha256(Buffer.alloc(Number.parseInt(size) * MiB)));
  }
});

test("raw → VHDX → raw, and compact: qemu-img and the engine read the same bytes", async ({ page }) => {
  // A raw disk with data in a few places and zeros elsewhere.
  const raw = join(dir, "disk.img");
  const bytes = Buffer.alloc(24 * MiB);
  for (let i = 0; i < MiB; i++) bytes[2 * MiB + i] = (i * 7) & 0xff;
  bytes.fill(0x5a, 13 * MiB + 512, 13 * MiB + 4096);
  bytes.fill(0xee, 24 * MiB - 512);
  writeFileSync(raw, bytes);
  // A dynamic image with a block of written zeros (allocated but empty) for compaction.
  const loose = join(dir, "loose.vhdx");
  qemu("create", "-q", "-f", "vhdx", "-o", "block_size=1M", loose, "32M");
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0 0 4M", "-c", "write -P 0x33 9M 1M", loose], {
    stdio: "ignore",
  });
  await stubPickers(page, { "disk.img": raw, "loose.vhdx": loose });

  await page.getByRole("button", { name: "Convert" }).click();
  const d = page.getByRole("dialog", { name: "Convert" });
  await willPick(page, "disk.img");
  await d.getByRole("button", { name: "Choose raw image…" }).click();
  await expect(d.getByLabel("Chosen raw image")).toHaveText("disk.img");
  await d.getByLabel("Block size").selectOption({ label: "2 MiB" });
  await d.getByLabel("Output name").fill("from-raw");
  await page.screenshot({ path: "e2e/screenshots/toolbox-convert.png" });
  await d.getByRole("button", { name: "Convert", exact: true }).click();
  await expect(d.getByText("Convert: done.")).toBeVisible();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("from-raw.vhdx");
  const vh = await fromOpfs(page, "toolbox/from-raw.vhdx", join(dir, "from-raw.vhdx"));
  qemuOk(vh);
  qemu("compare", "-f", "vhdx", "-F", "raw", vh, raw);
  expect(cat(vh)).toBe(sha256(bytes));
  const allocated = JSON.parse(vhdx("info", vh, "--json")) as { bat: { payload: Record<string, number> } };
  expect(allocated.bat.payload.FULLY_PRESENT ?? allocated.bat.payload["PAYLOAD_BLOCK_FULLY_PRESENT"]).toBe(3);

  // The open result back out to raw.
  await d.getByRole("radio", { name: "Open image → raw" }).click();
  await d.getByLabel("Output name").fill("back");
  await d.getByRole("button", { name: "Convert", exact: true }).click();
  await expect(d.getByText("Convert: done.")).toBeVisible();
  await expect(d.getByText("A raw image does not open in the editor.")).toBeVisible();
  const back = await fromOpfs(page, "toolbox/back.img", join(dir, "back.img"));
  expect(sha256(readFileSync(back))).toBe(sha256(bytes));
  await d.getByRole("button", { name: "Close" }).click();

  // Compact: the zero block and the free space go, the bytes stay.
  await openPicked(page, "loose.vhdx");
  await page.getByRole("button", { name: "Convert" }).click();
  await d.getByRole("radio", { name: "Compact" }).click();
  await d.getByLabel("Output name").fill("compact");
  await d.getByRole("button", { name: "Compact", exact: true }).click();
  await expect(d.getByText("Compact: done.")).toBeVisible();
  const small = await fromOpfs(page, "toolbox/compact.vhdx", join(dir, "compact.vhdx"));
  qemuOk(small);
  qemu("compare", "-f", "vhdx", "-F", "vhdx", small, loose);
  expect(cat(small)).toBe(cat(loose));
  expect(readFileSync(small).length).toBeLessThan(readFileSync(loose).length);
});

interface InfoJson {
  headers: { current: boolean; dataWriteGuid: string | null }[];
  parentLocator: { entries: { key: string; value: string }[] } | null;
  bat: { payload: Record<string, number> };
}
const info = (f: string) => JSON.parse(vhdx("info", f, "--json")) as InfoJson;
const guidOf = (i: InfoJson) => i.headers.find((h) => h.current)!.dataWriteGuid!;
const dataWriteGuid = (f: string) => guidOf(info(f));

/** A dynamic base by QEMU and a differencing child by the engine, with its own sectors written by `vhdx write`. */
function makeChain(prefix: string): { base: string; child: string } {
  const base = join(dir, `${prefix}base.vhdx`);
  const child = join(dir, `${prefix}child.vhdx`);
  qemu("create", "-q", "-f", "vhdx", "-o", "block_size=1M", base, "16M");
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x11 0 2M", "-c", "write -P 0x22 8M 1M", base], {
    stdio: "ignore",
  });
  vhdx("create", child, "--parent", base, "--block-size", "1M");
  const patch = join(dir, `${prefix}patch.bin`);
  writeFileSync(patch, Buffer.alloc(1536, 0xc1));
  vhdx("write", child, "--offset", String(MiB + 512), "--input", patch);
  writeFileSync(patch, Buffer.alloc(MiB, 0xc2));
  vhdx("write", child, "--offset", String(12 * MiB), "--input", patch);
  return { base, child };
}

test("a differencing image and its parent: the locator, the chain, a read through it, then merge", async ({ page }) => {
  const { base, child } = makeChain("");
  // What the engine in Node reads of both files (neither is written in Node below).
  const childInfo = info(child);
  const baseInfo = info(base);
  // `vhdx convert` reads through the parent chain in Node.
  const flat = join(dir, "flat.raw");
  vhdx("convert", child, flat, "--format", "raw");
  const throughChain = sha256(readFileSync(flat));
  await stubPickers(page, { "base.vhdx": base, "child.vhdx": child });
  await openPicked(page, "child.vhdx");
  const d = page.getByRole("dialog", { name: "Differencing chain" });
  await expect(d).toBeVisible();
  // Nothing of the child is shown before its parent is verified (issue 9).
  await expect(page.getByRole("tabpanel")).toHaveCount(0);
  await expect(page.getByRole("tab", { name: "Headers", exact: true })).toHaveCount(0);
  const rel = childInfo.parentLocator!.entries.find((e) => e.key === "relative_path")!;
  await expect(d.getByRole("table", { name: "Parent locator paths" })).toContainText(rel.value);
  await willPick(page, "base.vhdx");
  await d.getByRole("button", { name: "Choose parent…" }).click();
  const rows = d.getByRole("table", { name: "Chain" }).locator("tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("differencing");
  await expect(rows.nth(0)).toContainText(guidOf(childInfo));
  await expect(rows.nth(0)).toContainText(guidOf(baseInfo)); // its parent_linkage
  await expect(rows.nth(1)).toContainText("dynamic");
  await expect(rows.nth(1)).toContainText(guidOf(baseInfo));
  await expect(rows.nth(0).getByLabel("2 of 16 blocks allocated")).toBeVisible();
  await expect(rows.nth(1).getByLabel("3 of 16 blocks allocated")).toBeVisible();
  await page.screenshot({ path: "e2e/screenshots/toolbox-chain.png" });
  await d.getByRole("button", { name: "Close" }).click();
  await expect(page.getByRole("tabpanel", { name: "Headers" })).toBeVisible();

  // The BAT view shades partially present blocks by their sector bitmap; as many as Node counts.
  const partial = childInfo.bat.payload.PARTIALLY_PRESENT;
  expect(partial).toBeGreaterThan(0);
  await page.getByRole("tab", { name: "BAT", exact: true }).click();
  await page.getByLabel("Shade partial blocks by sector bitmap").check();
  await expect(page.getByText(`${partial} partially present block${partial === 1 ? "" : "s"};`)).toBeVisible();
  await page.screenshot({ path: "e2e/screenshots/toolbox-bat-partial.png" });

  // The hex view names, per sector, the image that supplies it: the child's own sectors (a
  // partial block by its sector bitmap, a whole block) and the base's blocks.
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  const source = page.getByRole("status", { name: "Cursor sector source" });
  for (const [offset, want] of [
    [MiB + 512, "Sector 2,049: child.vhdx"],
    [MiB + 2048, "Sector 2,052: base.vhdx"],
    [12 * MiB, "Sector 24,576: child.vhdx"],
    // QEMU leaves unwritten blocks in state ZERO: the base itself supplies their zeros.
    [4 * MiB, "Sector 8,192: base.vhdx"],
  ] as const) {
    await page.getByLabel("Go to offset").fill(`0x${offset.toString(16)}`);
    await page.getByLabel("Go to offset").press("Enter");
    await expect(source).toHaveText(want);
  }
  await page.getByLabel("Go to offset").fill(`0x${(MiB + 512).toString(16)}`);
  await page.getByLabel("Go to offset").press("Enter");
  await page.screenshot({ path: "e2e/screenshots/toolbox-hex-sources.png" });

  // A read of the whole virtual disk through the chain, out to raw, equals the engine's in Node.
  await page.getByRole("button", { name: "Convert" }).click();
  const c = page.getByRole("dialog", { name: "Convert" });
  await c.getByRole("radio", { name: "Open image → raw" }).click();
  await c.getByLabel("Output name").fill("through-chain");
  await c.getByRole("button", { name: "Convert", exact: true }).click();
  await expect(c.getByText("Convert: done.")).toBeVisible();
  const raw = await fromOpfs(page, "toolbox/through-chain.img", join(dir, "through-chain.img"));
  expect(sha256(readFileSync(raw))).toBe(throughChain);

  // Merge the child into its parent: the parent then reads as the chain did.
  await c.getByRole("radio", { name: "Merge into parent" }).click();
  // The parent attached in the chain dialog is the one merged into: it is not asked for again.
  await expect(c.getByLabel("Chosen parent")).toHaveText("base.vhdx (the attached parent)");
  // Opened read-only, the child is not written: the dialog says so, and its bytes stay as they were.
  await expect(c.getByText("child.vhdx is open read-only, so it is left as it is")).toBeVisible();
  await page.screenshot({ path: "e2e/screenshots/toolbox-merge.png" });
  await c.getByRole("button", { name: "Merge", exact: true }).click();
  await expect(c.getByText("Merge: done.")).toBeVisible();
  // Plainly worded, plurals right, and what the open file now is (not "not a differencing image").
  await expect(c.getByRole("status").filter({ hasText: "Merge: done." })).toContainText(
    "2 blocks of child.vhdx merged into base.vhdx",
  );
  await expect(c.getByRole("status", { name: "Now open" })).toHaveText(
    "Now open: base.vhdx, the merged parent — a dynamic image of 16 MiB.",
  );
  await expect(c).not.toContainText("not a differencing image");
  const childAfter = await fromOpfs(page, "child.vhdx", join(dir, "child-after.vhdx"));
  expect(readFileSync(childAfter).equals(readFileSync(child))).toBe(true);
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("base.vhdx");
  await c.getByRole("button", { name: "Close" }).click();
  await gotoApp(page);
  const merged = await fromOpfs(page, "base.vhdx", join(dir, "merged.vhdx"));
  qemuOk(merged);
  expect(cat(merged)).toBe(throughChain);
  const q = join(dir, "merged.raw");
  qemu("convert", "-f", "vhdx", "-O", "raw", merged, q);
  expect(sha256(readFileSync(q))).toBe(throughChain);
});

test("a parent whose DataWriteGuid changed: both GUIDs named, then opened read-only anyway from a granted folder", async ({
  page,
}) => {
  const { base, child } = makeChain("stale-");
  const expected = dataWriteGuid(base);
  // Writing to the parent after the child was made gives it a new DataWriteGuid.
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x99 4M 4k", base], { stdio: "ignore" });
  const actual = dataWriteGuid(base);
  expect(actual).not.toBe(expected);
  await stubPickers(page, { "stale-base.vhdx": base, "stale-child.vhdx": child });
  await page.evaluate(() => {
    (window as unknown as Record<string, unknown>).showDirectoryPicker = async () => navigator.storage.getDirectory();
  });
  await openPicked(page, "stale-child.vhdx");
  const d = page.getByRole("dialog", { name: "Differencing chain" });
  await d.getByRole("button", { name: "Grant folder…" }).click();
  const alert = d.getByRole("alert");
  await expect(alert).toContainText(actual);
  await expect(alert).toContainText(expected);
  // A mismatch shows nothing either until the user chooses to open read-only anyway.
  await expect(page.getByRole("tabpanel")).toHaveCount(0);
  await page.screenshot({ path: "e2e/screenshots/toolbox-chain-mismatch.png" });
  await d.getByRole("button", { name: "Open read-only anyway" }).click();
  await expect(d.getByRole("table", { name: "Chain" }).locator("tbody tr")).toHaveCount(2);
  await d.getByRole("button", { name: "Close" }).click();
  await expect(page.getByRole("tabpanel", { name: "Headers" })).toBeVisible();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("read-only");
  // The hex view says why edits cannot be committed, in words, not only by a disabled button.
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await expect(page.getByRole("note", { name: "Why edits cannot be committed" })).toContainText(
    "DataWriteGuid does not match",
  );
});

test("a differencing image without its parent: hidden until opened read-only anyway", async ({ page }) => {
  const { child } = makeChain("lone-");
  await stubPickers(page, { "lone-child.vhdx": child });
  await openPicked(page, "lone-child.vhdx");
  const d = page.getByRole("dialog", { name: "Differencing chain" });
  await expect(d).toBeVisible();
  await expect(page.getByRole("tabpanel")).toHaveCount(0);
  // Dismissing the dialog still shows nothing of the image; it can be asked for again.
  await page.keyboard.press("Escape");
  await expect(d).toBeHidden();
  await expect(page.getByRole("tabpanel")).toHaveCount(0);
  await page.getByRole("button", { name: "Attach parent…" }).click();
  await d.getByRole("button", { name: "Open read-only anyway" }).click();
  await expect(d).toBeHidden();
  await expect(page.getByRole("tabpanel", { name: "Headers" })).toBeVisible();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("read-only");
  // The hex view says why edits cannot be committed, in words, not only by a disabled button.
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  await expect(page.getByRole("note", { name: "Why edits cannot be committed" })).toContainText(
    "parent is not attached",
  );
});

test("a parent attached after opening read-only anyway: the reason for read-only follows the worker", async ({
  page,
}) => {
  const { child } = makeChain("late-");
  await stubPickers(page, { "late-base.vhdx": join(dir, "late-base.vhdx"), "late-child.vhdx": child });
  await openPicked(page, "late-child.vhdx");
  const d = page.getByRole("dialog", { name: "Differencing chain" });
  await d.getByRole("button", { name: "Open read-only anyway" }).click();
  await page.getByRole("tab", { name: "Hex", exact: true }).click();
  const why = page.getByRole("note", { name: "Why edits cannot be committed" });
  await expect(why).toContainText("parent is not attached");
  await why.getByRole("button", { name: "Attach the parent…" }).click();
  await willPick(page, "late-base.vhdx");
  await d.getByRole("button", { name: "Choose parent…" }).click();
  await expect(d.getByRole("table", { name: "Chain" }).locator("tbody tr")).toHaveCount(2);
  await d.getByRole("button", { name: "Close" }).click();
  // The parent is there now: what still keeps the image read-only is how the file was opened.
  await expect(why).toContainText("files open read-only until you choose Enable editing");
  await expect(why).not.toContainText("parent");
  await expect(why.getByRole("button")).toHaveCount(0);
});

test("a cancelled conversion keeps nothing: the OPFS output is removed", async ({ page }) => {
  await stubPickers(page, {});
  // A 512 MiB raw disk made in the browser, with data every 16 MiB, long enough to cancel.
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const h = await root.getFileHandle("big.img", { create: true });
    const w = await h.createWritable();
    await w.truncate(2 ** 29);
    for (let at = 0; at < 2 ** 29; at += 16 * 2 ** 20)
      await w.write({ type: "write", position: at, data: new Uint8Array(4096).fill(7) });
    await w.close();
  });
  await page.getByRole("button", { name: "Convert" }).click();
  const d = page.getByRole("dialog", { name: "Convert" });
  await willPick(page, "big.img");
  await d.getByRole("button", { name: "Choose raw image…" }).click();
  await d.getByLabel("Output name").fill("big");
  await d.getByRole("button", { name: "Convert", exact: true }).click();
  await expect(d.getByRole("progressbar", { name: "Convert progress" })).toBeVisible();
  await d.getByRole("button", { name: "Cancel" }).click();
  await expect(d.getByRole("alert")).toHaveText("Convert failed: Cancelled; nothing was kept.");
  const left = await page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle("toolbox", { create: true });
    const names: string[] = [];
    for await (const [name] of dir as unknown as AsyncIterable<[string, FileSystemHandle]>) names.push(name);
    return names;
  });
  expect(left).not.toContain("big.vhdx");
});

test("a new differencing image on a picked parent links to it and reads as it, in Node", async ({ page }) => {
  const base = join(dir, "nd-base.vhdx");
  qemu("create", "-q", "-f", "vhdx", "-o", "block_size=2M", base, "24M");
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x6d 5M 3M", base], { stdio: "ignore" });
  await stubPickers(page, { "nd-base.vhdx": base });
  await page.getByRole("button", { name: "New image" }).click();
  const d = page.getByRole("dialog", { name: "New image" });
  await d.getByRole("radio", { name: "differencing" }).click();
  await expect(d.getByRole("button", { name: "Create" })).toBeDisabled(); // no parent yet
  await willPick(page, "nd-base.vhdx");
  await d.getByRole("button", { name: "Choose parent…" }).click();
  await expect(d.getByLabel("Chosen parent")).toHaveText("nd-base.vhdx");
  await d.getByLabel("Output name").fill("nd-child");
  await d.getByRole("button", { name: "Create" }).click();
  // The new child opens in the editor and asks for its parent; that dialog takes the place of the
  // New image dialog, whose "done" can be gone before a slow machine looks for it.
  await expect(page.getByRole("dialog", { name: "Differencing chain" })).toBeVisible();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("nd-child.vhdx");
  const child = await fromOpfs(page, "toolbox/nd-child.vhdx", join(dir, "nd-child.vhdx"));
  const info = JSON.parse(vhdx("info", child, "--json")) as InfoJson & { diskType: string; blockSize: number };
  expect(info.diskType).toBe("differencing");
  expect(info.blockSize).toBe(2 * MiB); // the parent's, by default
  const loc = Object.fromEntries(info.parentLocator!.entries.map((e) => [e.key, e.value]));
  expect(loc.relative_path).toBe(".\\nd-base.vhdx");
  expect(loc.parent_linkage.replace(/[{}]/g, "")).toBe(dataWriteGuid(base));
  const flat = join(dir, "nd-flat.raw");
  vhdx("convert", child, flat, "--format", "raw");
  const want = join(dir, "nd-base.raw");
  qemu("convert", "-f", "vhdx", "-O", "raw", base, want);
  expect(sha256(readFileSync(flat))).toBe(sha256(readFileSync(want)));
});
