import { defineConfig } from "@playwright/test";

// End-to-end tests run in Debian's Chromium (apt package `chromium`), never a downloaded browser build.
const PORT = Number(process.env.VHDX_E2E_PORT ?? 5179);
/**
 * `npm test` builds the app once (`vite build --mode e2e`, with the harness page) and serves that
 * build: a bundled page loads in a fraction of the time the development server's hundreds of
 * modules take, for every test. `npx playwright test` alone serves the sources as they are.
 */
const BUILT = process.env.VHDX_E2E_BUILT === "1";

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results",
  fullyParallel: false,
  // One worker unless VHDX_E2E_WORKERS says otherwise: `npm test` runs Vitest beside these on 2 cores.
  workers: Number(process.env.VHDX_E2E_WORKERS ?? 1),
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Ceilings, not waits: `npm test` runs these beside Vitest on a 2-core machine.
  timeout: 180_000,
  // Assertions wait for their condition; on a loaded 2-core machine 5 s is too short a ceiling.
  expect: { timeout: 30_000 },
  reporter: "list",
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    trace: "off",
    screenshot: "only-on-failure",
    // The built app registers its service worker; the tests' pages need none of it (shell.spec.ts
    // tests it in a browser of its own).
    serviceWorkers: "block",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: {
    command: BUILT
      ? `npx vite preview --mode e2e --outDir dist/e2e --port ${PORT} --strictPort --host 127.0.0.1`
      : `npx vite --port ${PORT} --strictPort --host 127.0.0.1`,
    // The storage harness page exists on every branch; "/" answers 404 until the app has an index.html.
    url: `http://127.0.0.1:${PORT}/e2e/harness.html`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
