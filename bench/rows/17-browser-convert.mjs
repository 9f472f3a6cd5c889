/* global window, navigator, btoa -- page code runs in Chromium */
// Conversions in the browser: the toolbox's Convert dialog in headless Debian Chromium (Playwright,
// a production build served by `vite preview`), against `vhdx convert` in Node in the same run.
// The input is row 11's qemu-img-made 1 GiB dynamic VHDX (32 MiB blocks, every other one random),
// opened through the file input; the output goes to the origin's private file system (OPFS), the
// dialog's default. Two rows: "Open image → raw" and "Compact" (VHDX → VHDX).
//
// A run is a fresh page of one on-disk browser profile, its OPFS emptied first, the image opened, the dialog's mode
// chosen; the time runs from the click on the dialog's button to "…: done." in its status. Before
// any timing, the first run's output is copied out of OPFS (all-zero 16 MiB pieces left as holes)
// and must read as the raw disk the image was made from (`qemu-img compare`); the VHDX must also
// pass `qemu-img check`. The Node side converts the same image to a fresh file per run.
// Throughput: the disk's 1 GiB over the median time. Budget (issue): the browser at ≥ 50 % of the
// Node figure.
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { chromium } from "playwright-core";
import { fmtMs, freshPath, GiB, median, MiB, run, timeProcess, vhdx } from "../lib.mjs";
import { CHROMIUM_ARGS, startPreview, waitForServer } from "./10-browser.mjs";

const MODES = [
  { id: "raw", label: "Open image → raw", button: "Convert", done: "Convert: done.", ext: "raw", format: "raw" },
  { id: "compact", label: "Compact", button: "Compact", done: "Compact: done.", ext: "vhdx", format: "vhdx" },
];
const PIECE = 16 * MiB;
const say = (s) => process.stderr.write(`bench: browser convert: ${s}\n`);

/** One conversion on a fresh page, OPFS emptied first: its time, and the page (still open) to read the output from. */
async function convertOnce(ctx, mode) {
  const page = await ctx.context.newPage();
  await page.goto(ctx.url);
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    for await (const [name] of root.entries()) await root.removeEntry(name, { recursive: true });
  });
  await page.locator('input[type="file"]').first().setInputFiles(ctx.image);
  await page.getByRole("tab", { name: "Headers" }).waitFor();
  await page.getByRole("button", { name: "Convert" }).click();
  const d = page.getByRole("dialog", { name: "Convert" });
  await d.getByRole("radio", { name: mode.label }).click();
  const go = d.getByRole("button", { name: mode.button, exact: true });
  await go.waitFor();
  const t0 = Date.now();
  await go.click();
  await d.getByText(mode.done).waitFor({ timeout: 300_000 });
  const ms = Date.now() - t0;
  return { ms, page };
}

/** The newest file under the OPFS folder "toolbox", copied to `dest` in pieces, all-zero pieces left as holes. */
async function copyOut(page, dest) {
  const size = await page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle("toolbox");
    const names = [];
    for await (const [name] of dir.entries()) names.push(name);
    const out = names.filter((n) => !n.endsWith(".partial"));
    if (out.length !== 1) throw new Error(`OPFS toolbox/ holds ${JSON.stringify(names)}, not one output`);
    window.__out = await (await dir.getFileHandle(out[0])).getFile();
    return window.__out.size;
  });
  const fd = openSync(dest, "w");
  try {
    for (let at = 0; at < size; at += PIECE) {
      const b64 = await page.evaluate(
        async ([at, n]) => {
          const bytes = new Uint8Array(await window.__out.slice(at, at + n).arrayBuffer());
          if (bytes.every((x) => x === 0)) return null;
          let s = "";
          for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          return btoa(s);
        },
        [at, PIECE],
      );
      if (b64 !== null) writeSync(fd, Buffer.from(b64, "base64"), 0, undefined, at);
    }
  } finally {
    closeSync(fd);
  }
  // The length, for a file ending in a hole.
  run("truncate", ["-s", String(size), dest]);
  return size;
}

export default {
  id: "browser-convert",
  title: "browser convert",
  async setup(inputs) {
    const src = await inputs.dynamic1GiBHalf32M();
    const { url, server } = await startPreview(inputs, "app-convert");
    say("app built");
    await waitForServer(url, 30_000, server);
    // A profile on disk, as a user's: an incognito context keeps OPFS in memory, where sizing a
    // 1 GiB output alone took seconds (zero-filled) that no user's browser spends.
    const context = await chromium.launchPersistentContext(inputs.path("browser-convert-profile"), {
      executablePath: "/usr/bin/chromium",
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
    return { url, server, context, image: src.path, raw: src.raw, dir: inputs.dir };
  },
  async teardown(ctx) {
    await ctx.context?.close();
    ctx.server.kill();
  },
  async measure(ctx, { runs }) {
    const rows = [];
    for (const mode of MODES) {
      // Proven first: the browser's output copied out and read by QEMU as the raw disk.
      const first = await convertOnce(ctx, mode);
      say(`${mode.id}: first run ${fmtMs(first.ms)}; copying the output out to check it`);
      const copy = freshPath(ctx.dir, `browser-${mode.id}-verify`, mode.ext);
      try {
        await copyOut(first.page, copy);
        if (mode.format === "vhdx") run("qemu-img", ["check", "-q", "-f", "vhdx", copy]);
        run("qemu-img", ["compare", "-q", "-f", mode.format, "-F", "raw", copy, ctx.raw]);
      } finally {
        rmSync(copy, { force: true });
        await first.page.close();
      }
      const browserMs = [];
      const nodeMs = [];
      // Interleaved, so drift hits both alike.
      for (let i = 0; i < runs; i++) {
        const b = await convertOnce(ctx, mode);
        browserMs.push(b.ms);
        say(`${mode.id}: run ${i + 1}, ${fmtMs(b.ms)}`);
        await b.page.close();
        const out = freshPath(ctx.dir, `browser-${mode.id}-node`, mode.ext);
        try {
          nodeMs.push(timeProcess(vhdx("convert", ctx.image, out, "--format", mode.format)).ms);
        } finally {
          rmSync(out, { force: true });
        }
      }
      const b = median(browserMs);
      const n = median(nodeMs);
      const share = n / b;
      const mibs = (ms) => `${((GiB / MiB) * (1000 / ms)).toFixed(0)} MiB/s`;
      rows.push({
        id: `browser-convert-${mode.id}`,
        title: `browser: ${mode.id === "raw" ? "VHDX → raw" : "VHDX → VHDX (compact)"}, 1 GiB half written, to OPFS`,
        ours: `${fmtMs(b)} (${mibs(b)})`,
        qemu: `node ${fmtMs(n)} (${mibs(n)})`,
        ratio: b / n,
        values: { browser: browserMs, node: nodeMs },
        note: `browser at ${(share * 100).toFixed(0)} % of the Node command's throughput (the QEMU column holds Node's)`,
        budget: "browser ≥ 50 % of Node's throughput",
        met: share >= 0.5,
      });
    }
    return rows;
  },
};
