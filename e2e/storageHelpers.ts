/**
 * Shared by the storage e2e specs: images made by qemu-img and qemu-io in a temp folder, virtual
 * bytes as QEMU reads them, and the harness page loaded with fixtures served to it.
 */
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Harness } from "./harness";

declare global {
  interface Window {
    harness: Harness;
  }
}

export const MiB = 1024 * 1024;

/** A temp folder for the spec file's images, removed after its tests. */
export function useTempDir(prefix: string): () => string {
  let dir = "";
  test.beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

/** A dynamic VHDX made by qemu-img, with data written by qemu-io at the given virtual offsets. */
export function qemuImage(
  dir: string,
  name: string,
  size: string,
  writes: [pattern: number, offset: string, length: string][],
): string {
  const p = join(dir, name);
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", p, size]);
  if (writes.length) {
    const cmds = writes.flatMap(([pat, off, len]) => ["-c", `write -P ${pat} ${off} ${len}`]);
    execFileSync("qemu-io", ["-f", "vhdx", ...cmds, p], { stdio: "ignore" });
  }
  return p;
}

/** Virtual bytes as qemu-img sees them, for each [offset, length] range (one conversion). */
export function qemuVirtual(p: string, ...ranges: [number, number][]): Buffer[] {
  const raw = p + ".raw";
  execFileSync("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", p, raw]);
  // The raw output is sparse; read just the ranges asked for.
  const fd = openSync(raw, "r");
  const out = ranges.map(([offset, length]) => {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  });
  closeSync(fd);
  rmSync(raw);
  return out;
}

export function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

export async function load(page: Page, fixtures: Record<string, string> = {}): Promise<void> {
  await page.route("**/__fixtures/*", async (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.split("/").pop() ?? "");
    const path = fixtures[name];
    if (!path) return route.fulfill({ status: 404 });
    return route.fulfill({ status: 200, body: readFileSync(path), contentType: "application/octet-stream" });
  });
  await page.goto("/e2e/harness.html");
  await expect(page.locator("#status")).toHaveText("ready");
  await page.evaluate(() => window.harness.clearOpfs());
}
