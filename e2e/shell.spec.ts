/**
 * The editor shell as a user first meets it, in Debian's Chromium against the production build:
 * the Content-Security-Policy, no request leaving the machine, accessible names on every control,
 * the theme toggle, offline use through the service worker, and the installable app: its manifest
 * as Chromium reads it, its icons, and a disk handed to the app by the operating system (the launch
 * queue) opening in the editor.
 */
import { expect, test, type Browser, type Page } from "@playwright/test";
import { chromium } from "playwright-core";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toOpfs } from "./opfsFiles";

// Beside the development server's port, so engineers running the tests at once do not collide.
const PORT = Number(process.env.VHDX_E2E_PORT ?? 5179) + 1000;
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
  // The other specs block service workers (playwright.config.ts); this one is about them.
  const context = await browser!.newContext({ serviceWorkers: "allow" });
  const page = await context.newPage();
  await page.goto(ORIGIN);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole("button", { name: "Open file" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Open sample" })).toBeVisible();
  // What installing needs comes from the cache as well.
  const offline = await page.evaluate(async () => {
    const m = await fetch("./manifest.webmanifest").then((r) => r.json());
    const icon = await fetch("./icons/icon-512.png").then((r) => r.status);
    return { name: m.name as string, icon };
  });
  expect(offline).toEqual({ name: "VHDX Studio", icon: 200 });
  await context.close();
});

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  expect(bytes.subarray(12, 16).toString("latin1")).toBe("IHDR");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test("ships a manifest Chromium reads without errors: installable, with icons and handlers for .vhdx and .avhdx", async () => {
  // A profile on disk: Chromium does not install apps from an incognito context, which new contexts are.
  const profile = mkdtempSync(join(tmpdir(), "vhdx-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    serviceWorkers: "allow",
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    await checkManifest(await context.newPage());
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

async function checkManifest(page: Page): Promise<void> {
  await page.goto(ORIGIN);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  const cdp = await page.context().newCDPSession(page);
  // Chromium's own manifest parser and installability check judge the file.
  const got = (await cdp.send("Page.getAppManifest")) as { url: string; errors: { message: string }[]; data?: string };
  expect(got.url).toBe(`${ORIGIN}/manifest.webmanifest`);
  expect(got.errors).toEqual([]);
  const installable = await cdp.send("Page.getInstallabilityErrors");
  expect(installable.installabilityErrors).toEqual([]);
  const m = JSON.parse(got.data ?? "{}") as {
    name: string;
    display: string;
    start_url: string;
    icons: { src: string; sizes: string; type: string; purpose?: string }[];
    file_handlers: { action: string; accept: Record<string, string[]> }[];
  };
  expect(m.name).toBe("VHDX Studio");
  expect(m.display).toBe("standalone");
  expect(m.file_handlers.flatMap((h) => Object.values(h.accept).flat()).sort()).toEqual([".avhdx", ".vhdx"]);
  expect(new URL(m.file_handlers[0].action, got.url).href).toBe(`${ORIGIN}/`);
  // Every PNG icon is a PNG of the size the manifest says; a 512 px one exists for any use and as maskable.
  for (const icon of m.icons.filter((i) => i.type === "image/png")) {
    const res = await page.request.get(new URL(icon.src, got.url).href);
    expect(res.ok(), icon.src).toBe(true);
    const { width, height } = pngSize(await res.body());
    expect(`${width}x${height}`).toBe(icon.sizes);
  }
  const big = m.icons.filter((i) => i.type === "image/png" && i.sizes === "512x512").map((i) => i.purpose ?? "any");
  expect(big.sort()).toEqual(["any", "maskable"]);
}

test("a .vhdx handed to the installed app through the launch queue opens in the editor", async () => {
  // A disk QEMU made, with a size and block size of its own, as the file manager would hand it over.
  const dir = mkdtempSync(join(tmpdir(), "vhdx-launch-"));
  const disk = join(dir, "launched.vhdx");
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=2M", disk, "96M"]);
  const qemu = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", disk], { encoding: "utf8" })) as {
    "virtual-size": number;
  };
  expect(qemu["virtual-size"]).toBe(96 * 1024 * 1024);

  const context = await browser!.newContext();
  // The Launch Handler API as Chromium offers it to an installed app: launches wait in the queue
  // until the page sets its consumer.
  await context.addInitScript(() => {
    const waiting: unknown[] = [];
    let consumer: ((p: unknown) => void) | null = null;
    const w = window as unknown as { launch: (p: unknown) => void; consumers: number };
    w.consumers = 0;
    // Chromium has its own launchQueue (a getter on Window.prototype): shadow it on the window.
    Object.defineProperty(window, "launchQueue", {
      configurable: true,
      value: {
        setConsumer(f: (p: unknown) => void) {
          w.consumers++;
          consumer = f;
          for (const p of waiting.splice(0)) f(p);
        },
      },
    });
    w.launch = (p) => (consumer ? consumer(p) : waiting.push(p));
  });
  const page = await context.newPage();
  await page.goto(ORIGIN);
  await expect(page.getByRole("button", { name: "Open file" })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { consumers: number }).consumers)).toBe(1);
  await toOpfs(page, "launched.vhdx", disk);
  rmSync(dir, { recursive: true, force: true });
  await page.evaluate(async () => {
    const handle = await (await navigator.storage.getDirectory()).getFileHandle("launched.vhdx");
    (window as unknown as { launch: (p: unknown) => void }).launch({ targetURL: location.href, files: [handle] });
  });
  const status = page.getByRole("contentinfo", { name: "Status" });
  await expect(status).toContainText("launched.vhdx");
  await expect(status).toContainText("virtual 96 MiB");
  await expect(status).toContainText("block 2 MiB");
  await expect(status).toContainText("dynamic");
  await expect(page.getByRole("tab", { name: "Headers", exact: true })).toHaveAttribute("aria-selected", "true");
  await context.close();
});
