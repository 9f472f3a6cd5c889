/**
 * The editor shell as a user first meets it, in Debian's Chromium against the production build:
 * the Content-Security-Policy, no request leaving the machine, accessible names on every control,
 * the theme toggle, and offline use through the service worker.
 */
import { expect, test, type Browser } from "@playwright/test";
import { chromium } from "playwright-core";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PORT = 4187;
const ORIGIN = `http://127.0.0.1:${PORT}`;
let outDir = "";
let server: ChildProcess | null = null;
let browser: Browser | null = null;

test.beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "vhdx-shell-"));
  const vite = join("node_modules", "vite", "bin", "vite.js");
  const build = spawnSync(process.execPath, [vite, "build", "--outDir", outDir, "--emptyOutDir"], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`vite build failed: ${build.stderr}`);
  // Node runs vite itself (no npx wrapper in between), so killing this process stops the server.
  const args = [vite, "preview", "--outDir", outDir, "--port", String(PORT), "--strictPort", "--host", "127.0.0.1"];
  server = spawn(process.execPath, args, { stdio: "ignore" });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = await fetch(ORIGIN).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) throw new Error(`the preview server did not answer on ${ORIGIN}`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

test.afterAll(async () => {
  await browser?.close();
  server?.kill();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

test("ships a CSP that keeps connections and workers on the origin", async () => {
  const page = await browser!.newPage();
  await page.goto(ORIGIN);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toContain("worker-src 'self' blob:");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain("unsafe-inline");
  await page.close();
});

test("sends nothing off the machine and logs no CSP violation", async () => {
  const page = await browser!.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(ORIGIN);
  await expect(page.getByRole("button", { name: "Open file" })).toBeVisible();
  await page.getByRole("button", { name: /^Theme/ }).click();
  await page.waitForTimeout(300);
  expect(requests.length).toBeGreaterThan(0);
  expect(requests.filter((u) => !u.startsWith(ORIGIN) && !u.startsWith("data:"))).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
});

test("names every control and reaches them by keyboard", async () => {
  const page = await browser!.newPage();
  await page.goto(ORIGIN);
  const controls = page.locator("button, select, input:not([type=file]), [role=tab], [tabindex='0']");
  const n = await controls.count();
  expect(n).toBeGreaterThan(3);
  for (let i = 0; i < n; i++) await expect(controls.nth(i)).toHaveAccessibleName(/\S/);
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Open file" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Open sample" })).toBeFocused();
  await page.close();
});

test("switches between light and dark themes and remembers the choice", async () => {
  const page = await browser!.newPage({ colorScheme: "light" });
  await page.goto(ORIGIN);
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = await bg();
  await page.getByRole("button", { name: "Theme: system. Switch to light" }).click();
  await page.getByRole("button", { name: "Theme: light. Switch to dark" }).click();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
  expect(await bg()).not.toBe(light);
  await page.reload();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
  await page.close();
});

test("opens offline once loaded", async () => {
  const context = await browser!.newContext();
  const page = await context.newPage();
  await page.goto(ORIGIN);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole("button", { name: "Open file" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Open sample" })).toBeVisible();
  await context.close();
});
