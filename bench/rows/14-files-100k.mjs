/* global document, requestAnimationFrame, MutationObserver, MouseEvent -- page code runs in Chromium */
// Browser row: the Files tab opening a folder of 100,000 entries (the NTFS volume of the
// `ls -R` row): from the double-click on the folder to the frame after its count and first row
// are on screen. The worker reads the folder whole and hands the page only the rows in view.
import { chromium } from "playwright-core";
import { median } from "../lib.mjs";
import { ntfs100k } from "../ntfs100k.mjs";
import { CHROMIUM_ARGS, startPreview, waitForServer } from "./10-browser.mjs";

let URL = "";

async function openBig(page, file) {
  await page.goto(URL);
  await page.locator('input[type="file"]').setInputFiles(file);
  await page.getByRole("tab", { name: "Files", exact: true }).click();
  const grid = page.getByRole("grid", { name: "Folder contents" });
  const big = grid.getByRole("row").filter({ hasText: "big" }).first();
  await big.waitFor({ timeout: 60_000 });
  const handle = await big.elementHandle();
  return page.evaluate(async (row) => {
    const shown = new Promise((resolve) => {
      const done = () => {
        const text = document.querySelector('[aria-label="File actions"]')?.textContent ?? "";
        const first = document.querySelector('[role="grid"] [aria-rowindex="2"]')?.textContent ?? "";
        if (!text.includes("100,000 entries") || !first.includes("file 000001.txt")) return;
        obs.disconnect();
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
      };
      const obs = new MutationObserver(done);
      obs.observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const t = performance.now();
    row.dispatchEvent(new MouseEvent("dblclick", { bubbles: true }));
    return (await shown) - t;
  }, handle);
}

export default {
  id: "browser-files-100k",
  title: "browser: Files tab, a folder of 100,000 entries",
  async setup(inputs) {
    const img = await ntfs100k(inputs);
    const { url, server } = await startPreview(inputs, "app-files");
    URL = url;
    await waitForServer(URL, 30_000, server);
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    return { server, browser, image: img.path };
  },
  async teardown(ctx) {
    await ctx.browser?.close();
    ctx.server.kill();
  },
  async measure(ctx, { runs }) {
    const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await openBig(page, ctx.image); // warm-up
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await openBig(page, ctx.image));
    await page.close();
    const ms = median(times);
    return [
      {
        id: "browser-files-100k",
        title: "browser: Files tab, open a folder of 100,000 entries (NTFS) → first rows painted",
        ours: `${ms.toFixed(0)} ms`,
        values: times,
        note: `double-click to the frame after the count and the first row show; ${runs} runs`,
        budget: "< 500 ms",
        met: ms < 500,
      },
    ];
  },
  budget: null,
};
