/**
 * The toolbox's jobs in the browser, each checked outside it: new images, raw → VHDX → raw,
 * compaction and merging read by qemu-img (fixed and dynamic) and by the engine in Node
 * (bin/vhdx.mjs) as the expected bytes; a differencing image opened with its parent through
 * stubbed pickers returning OPFS handles, its chain and a read through it equal to Node's.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MiB, sha256 } from "./storageHelpers";

const vhdx = (...args: string[]) => execFileSync("node", ["bin/vhdx.mjs", ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
const cat = (f: string) => sha256(execFileSync("node", ["bin/vhdx.mjs", "cat", f], { maxBuffer: 1 << 30 }));
const qemu = (...args: string[]) => execFileSync("qemu-img", args, { encoding: "utf8" });

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-jobs-"));
  mkdirSync("e2e/screenshots", { recursive: true });
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Puts files into OPFS and makes the pickers answer from it: open pickers in turn from `queue`, save pickers with new files. */
async function stubPickers(page: Page, files: Record<string, string>): Promise<void> {
  await page.goto("/");
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
    win.showSaveFilePicker = async (o: { suggestedName: string }) => {
      const root = await navigator.storage.getDirectory();
      return root.getFileHandle(o.suggestedName, { create: true });
    };
  });
}

async function willPick(page: Page, ...names: string[]): Promise<void> {
  await page.evaluate((n) => (window as unknown as { pickQueue: string[] }).pickQueue.push(...n), names);
}

/** An OPFS file (at the root or in the toolbox folder) written to `dest` in Node. */
async function fromOpfs(page: Page, path: string, dest: string): Promise<string> {
  const b64 = await page.evaluate(async (path) => {
    let d = await navigator.storage.getDirectory();
    const parts = path.split("/");
    for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p);
    const bytes = new Uint8Array(await (await (await d.getFileHandle(parts[parts.length - 1])).getFile()).arrayBuffer());
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, path);
  writeFileSync(dest, Buffer.from(b64, "base64"));
  return dest;
}

async function openPicked(page: Page, name: string): Promise<void> {
  await willPick(page, name);
  await page.getByRole("button", { name: "Open file" }).click();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText(name);
}

function qemuOk(file: string): void {
  execFileSync("qemu-img", ["check", "-f", "vhdx", file], { encoding: "utf8" });
}

test("new dynamic and fixed images: qemu-img and the engine read them as zeros of the asked size", async ({ page }) => {
  await stubPickers(page, {});
  for (const [type, size, bs] of [["dynamic", "64M", "1"], ["fixed", "16M", "2"]] as const) {
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
    if (type === "dynamic") await page.screenshot({ path: "e2e/screenshots/toolbox-new-image.png" });
    await d.getByRole("button", { name: "Create" }).click();
    await expect(d.getByText("New image: done.")).toBeVisible();
    await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText(`new-${type}.vhdx`);
    await d.getByRole("button", { name: "Close" }).click();
    const out = await fromOpfs(page, `new-${type}.vhdx`, join(dir, `new-${type}.vhdx`));
    qemuOk(out);
    const qi = JSON.parse(qemu("info", "--output=json", "-f", "vhdx", out)) as { "virtual-size": number };
    expect(qi["virtual-size"]).toBe(Number.parseInt(size) * MiB);
    const info = JSON.parse(vhdx("info", out, "--json")) as { diskType: string; blockSize: number; physicalSectorSize: number };
    expect(info).toMatchObject({ diskType: type, blockSize: Number(bs) * MiB, physicalSectorSize: type === "fixed" ? 512 : 4096 });
    const zeros = join(dir, `zeros-${type}.raw`);
    writeFileSync(zeros, Buffer.alloc(Number.parseInt(size) * MiB));
    qemu("compare", "-f", "vhdx", "-F", "raw", out, zeros);
    expect(cat(out)).toBe(sha256(readFileSync(zeros)));
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
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0 0 4M", "-c", "write -P 0x33 9M 1M", loose], { stdio: "ignore" });
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
