/**
 * The toolbox in the browser: the log and the checker through the engine worker, check and
 * repair of damaged images, checked against the engine in Node (bin/vhdx.cjs) and qemu-img.
 * Screenshots land in e2e/screenshots/ (not committed) for review.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MiB, qemuVirtual, sha256 } from "./storageHelpers";
import { fromOpfs, toOpfs } from "./opfsFiles";
import { gotoApp } from "./pickerStubs";

const vhdx = (...args: string[]) => execFileSync("node", ["bin/vhdx.cjs", ...args], { encoding: "utf8" });

interface LogJson {
  needsReplay: boolean;
  active: { headSequenceNumber: string; entryCount: number; tail: number; head: number } | null;
  entries: { active: boolean }[];
}

test.beforeAll(() => {
  mkdirSync("e2e/screenshots", { recursive: true });
});

async function tab(page: Page, name: string): Promise<void> {
  await page.getByRole("tab", { name, exact: true }).click();
  await expect(page.getByRole("tab", { name, exact: true })).toHaveAttribute("aria-selected", "true");
}

test("the sample's Log view shows the active sequence the engine finds in Node", async ({ page }) => {
  const want = JSON.parse(vhdx("log", "public/sample.vhdx", "--json")) as LogJson;
  expect(want.needsReplay).toBe(true);
  expect(want.active).not.toBeNull();
  await gotoApp(page);
  await page.getByRole("button", { name: "Open sample" }).click();
  await tab(page, "Log");
  const a = want.active!;
  const n = a.entryCount;
  await expect(
    page.getByText(`${n} ${n === 1 ? "entry" : "entries"} up to sequence ${a.headSequenceNumber}`),
  ).toBeVisible();
  const table = page.getByRole("table", { name: "Log entries" });
  await expect(table.locator("tbody tr")).toHaveCount(want.entries.length);
  await expect(table.locator("tbody tr.active")).toHaveCount(want.entries.filter((e) => e.active).length);
  // The checker's findings reach the panel: the sample's pending log is one of them.
  await expect(page.getByRole("button", { name: /^Findings \(\d+\)$/ })).toBeEnabled();
  await page.screenshot({ path: "e2e/screenshots/toolbox-log.png" });

  // Check lists what the engine in Node finds; a finding's links open the region map and the hex view.
  const want2 = engineCheck("public/sample.vhdx");
  await page.getByRole("button", { name: "Check", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Check and repair" });
  const rows = dialog.getByRole("table", { name: "Check findings" }).locator("tbody tr");
  await expect(rows).toHaveCount(want2.findings.length);
  const f = want2.findings.find((x) => x.code === "LOG_NEEDS_REPLAY")!;
  const at = `0x${f.offset.toString(16).replace(/(?=(?:[0-9a-f]{4})+$)(?!^)/g, "_")}`;
  await dialog.getByRole("button", { name: `Show LOG_NEEDS_REPLAY at ${at} on the region map` }).click();
  await expect(page.getByRole("tab", { name: "Regions", exact: true })).toHaveAttribute("aria-selected", "true");
  await page.getByRole("button", { name: "Check", exact: true }).click();
  await dialog.getByRole("button", { name: `Show LOG_NEEDS_REPLAY at ${at} in the hex view` }).click();
  await expect(page.getByRole("tab", { name: "Hex", exact: true })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("radio", { name: "Raw file" })).toBeChecked();
  await expect(page.getByText(`${at} ·`, { exact: false }).first()).toBeVisible();
});

/** Copies a file into OPFS and makes the system picker answer with its handle. */
async function pickFromOpfs(page: Page, file: string, name: string): Promise<void> {
  await toOpfs(page, name, file);
  await page.evaluate(async (name) => {
    const handle = await (await navigator.storage.getDirectory()).getFileHandle(name);
    (window as unknown as { showOpenFilePicker: () => Promise<FileSystemFileHandle[]> }).showOpenFilePicker =
      async () => [handle];
  }, name);
}

/** `vhdx check --json` in Node, whatever its exit status. */
function engineCheck(file: string): { ok: boolean; findings: { code: string; severity: string; offset: number }[] } {
  try {
    return JSON.parse(vhdx("check", file, "--json"));
  } catch (e) {
    return JSON.parse((e as { stdout: string }).stdout);
  }
}

function qemuCheck(file: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync("qemu-img", ["check", "-f", "vhdx", file], { encoding: "utf8" }) };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${x.stdout ?? ""}${x.stderr ?? ""}` };
  }
}

async function checkAndRepair(page: Page, file: string, name: string, repairCode: string): Promise<void> {
  await gotoApp(page);
  await pickFromOpfs(page, file, name);
  await page.getByRole("button", { name: "Open file" }).click();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText(name);
  await page.getByRole("button", { name: "Check", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Check and repair" });
  const findings = dialog.getByRole("table", { name: "Check findings" });
  await expect(findings).toBeVisible();
  await page.screenshot({ path: `e2e/screenshots/toolbox-check-${name}.png` });
  await dialog.getByRole("button", { name: "Repair…" }).click();
  // Opened read-only through the picker: the plan says so and offers to open for writing.
  await dialog.getByRole("button", { name: "Open for writing" }).click();
  const plan = dialog.getByRole("list", { name: "Repairs to run" });
  await expect(plan).toContainText(repairCode);
  await expect(dialog.getByRole("table", { name: `What ${repairCode} writes` })).toContainText("header 1");
  await page.screenshot({ path: `e2e/screenshots/toolbox-repair-plan-${name}.png` });
  await dialog.getByRole("button", { name: /^Run \d+ repairs?$/ }).click();
  // The repair and the check after it run as long as the machine needs; wait for their results.
  await expect(dialog.getByRole("list", { name: "Repairs done" })).toContainText(repairCode, { timeout: 60_000 });
  await expect(dialog.getByText("no errors")).toBeVisible({ timeout: 60_000 });
  await page.screenshot({ path: `e2e/screenshots/toolbox-repaired-${name}.png` });
  await dialog.getByRole("button", { name: "Close" }).click();
}

// Each repair imports a file, checks, repairs and reads the result back: on a busy machine that
// takes longer than the default minute, so these tests have three.
test("check and repair: one bad header, left clean for qemu-img check", async ({ page }) => {
  test.slow();
  const dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-toolbox-"));
  try {
    // One bad header: the non-current header's checksum broken in a copy of a QEMU image.
    const badHeader = join(dir, "badheader.vhdx");
    execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", badHeader, "64M"]);
    execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x5a 3M 1M", badHeader], { stdio: "ignore" });
    const info = JSON.parse(vhdx("info", badHeader, "--json")) as { headers: { current: boolean }[] };
    const stale = info.headers.findIndex((h) => !h.current);
    const bytes = readFileSync(badHeader);
    bytes[(stale + 1) * 64 * 1024 + 100] ^= 0xff; // §2.2.2: header 1 at 64 KiB, header 2 at 128 KiB
    writeFileSync(badHeader, bytes);
    expect(engineCheck(badHeader).findings.map((f) => f.code)).toContain("HEADER_CHECKSUM");
    await checkAndRepair(page, badHeader, "badheader.vhdx", "HEADER_REWRITTEN");
    const out1 = join(dir, "badheader-out.vhdx");
    await gotoApp(page); // the worker and its sync handles go with the page
    await fromOpfs(page, "badheader.vhdx", out1);
    expect(qemuCheck(out1).ok).toBe(true);
    expect(engineCheck(out1).ok).toBe(true);
    expect(engineCheck(out1).findings.map((f) => f.code)).not.toContain("HEADER_CHECKSUM");
    const want = qemuVirtual(badHeader, [3 * MiB, MiB])[0];
    expect(qemuVirtual(out1, [3 * MiB, MiB])[0].equals(want)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check and repair: a dirty log, left clean for qemu-img check", async ({ page }) => {
  test.slow();
  const dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-toolbox-"));
  try {
    // A dirty log: the sample's pending active sequence.
    await checkAndRepair(page, "public/sample.vhdx", "dirty.vhdx", "LOG_REPLAYED");
    const out2 = join(dir, "dirty-out.vhdx");
    await gotoApp(page);
    await fromOpfs(page, "dirty.vhdx", out2);
    const q = qemuCheck(out2);
    expect(q.ok, q.out).toBe(true);
    expect(engineCheck(out2).ok).toBe(true);
    const log = JSON.parse(vhdx("log", out2, "--json")) as LogJson;
    expect(log.needsReplay).toBe(false);
    // The replayed file reads as the engine reads the sample (replayed in memory) in Node.
    const cat = (f: string) => sha256(execFileSync("node", ["bin/vhdx.cjs", "cat", f], { maxBuffer: 1 << 30 }));
    expect(cat(out2)).toBe(cat("public/sample.vhdx"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
