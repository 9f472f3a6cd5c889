#!/usr/bin/env node
// `npm run bench [-- [--markdown] filter…]`: the speed report. Process rows compare our command with
// QEMU's on the same file, as whole processes, several runs interleaved, and report the medians, the
// ratio (ours / QEMU) and the budget; measured rows (in-process engine figures, the browser) report
// their own figures. Rows are the modules in bench/rows/ (see bench/README.md). Results also go to
// bench/results.json; --markdown prints the table as Markdown for the README.
// It is not part of `npm test`. Exit code 1 only when a row could not be measured.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { fmtMs, Inputs, median, ROOT, timeProcess } from "../bench/lib.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const args = process.argv.slice(2);
const markdown = args.includes("--markdown");
const filters = args.filter((a) => !a.startsWith("--"));

function version(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n")[0].trim() : "not found";
}

/**
 * NODE_EXTRA_CA_CERTS makes every Node process parse a CA bundle before running any code (tens of
 * milliseconds, measured and reported here). None of the timed commands opens a TLS connection, and
 * a user's shell rarely sets it, so every process the report times, ours and QEMU's alike, runs
 * without it; the header line says when it was set and what it would have added to each Node start.
 */
function dropExtraCaCerts() {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return null;
  const start = (env) => {
    const times = [];
    for (let i = 0; i < 7; i++) times.push(timeProcess({ cmd: process.execPath, args: ["-e", "0"] }, { env }).ms);
    return median(times);
  };
  const without = { ...process.env };
  delete without.NODE_EXTRA_CA_CERTS;
  const cost = start(process.env) - start(without);
  delete process.env.NODE_EXTRA_CA_CERTS;
  return { file, costMs: cost };
}

async function loadRows() {
  const dir = join(ROOT, "bench", "rows");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".mjs"))
    .sort();
  const rows = [];
  for (const f of files) {
    const row = (await import(pathToFileURL(join(dir, f)).href)).default;
    if (filters.length === 0 || filters.some((x) => row.id.includes(x))) rows.push(row);
  }
  return rows;
}

/** Whether a process row met its budget: a ratio to QEMU, an absolute time, or both, plus the row's own extra condition. */
function budgetMet(row, result, ctx) {
  if (!row.budget) return null;
  if (result.error) return false;
  const b = row.budget;
  if (b.maxRatio !== undefined && !(result.ratio !== undefined && result.ratio <= b.maxRatio)) return false;
  if (b.maxMs !== undefined && !(result.oursMedianMs !== undefined && result.oursMedianMs < b.maxMs)) return false;
  if (row.extraMet && !row.extraMet(ctx)) return false;
  return true;
}

async function measureProcesses(row, ctx, result) {
  const errors = [];
  // Our side is timed only once its output is proven right; QEMU's side is timed regardless,
  // so the table shows the target even while our command is missing or wrong.
  let oursOk = true;
  try {
    if (row.verify) await row.verify(ctx);
  } catch (e) {
    oursOk = false;
    errors.push(message(e));
  }
  const ours = [];
  const theirs = [];
  // A row may run fewer times (a slow peer), and stop QEMU's side at a time limit (`theirsTimeoutMs`):
  // a run stopped there shows as "> limit", and its ratio as an upper bound.
  const runs = Math.min(RUNS, row.runs ?? RUNS);
  let theirsCut = false;
  // One untimed warm-up each (page cache, binaries), then interleaved runs so drift hits both alike.
  // beforeEach/afterEach are untimed (fresh input copies, removing outputs).
  for (let i = row.warmUp === false ? 0 : -1; i < runs; i++) {
    if (oursOk) {
      try {
        row.beforeEach?.(ctx, "ours");
        const a = timeProcess(row.ours(ctx)).ms;
        if (i >= 0) ours.push(a);
      } catch (e) {
        oursOk = false;
        ours.length = 0;
        errors.push(message(e));
      }
      row.afterEach?.(ctx);
    }
    if (theirsCut) continue;
    try {
      row.beforeEach?.(ctx, "qemu");
      const b = timeProcess(row.theirs(ctx), { timeoutMs: row.theirsTimeoutMs });
      if (b.timedOut) {
        theirsCut = true;
        theirs.length = 0;
        theirs.push(row.theirsTimeoutMs);
      } else if (i >= 0) theirs.push(b.ms);
    } catch (e) {
      errors.push(`QEMU side: ${message(e)}`);
      break;
    }
    row.afterEach?.(ctx);
  }
  if (ours.length === runs) {
    result.runs = runs;
    result.oursMs = ours;
    result.oursMedianMs = median(ours);
    result.ours = fmtMs(result.oursMedianMs);
  }
  if (theirs.length === runs || theirsCut) {
    result.qemuMs = theirs;
    result.qemuMedianMs = median(theirs);
    result.qemu = (theirsCut ? "> " : "") + fmtMs(result.qemuMedianMs);
    if (theirsCut) result.qemuCutAtMs = row.theirsTimeoutMs;
  }
  if (result.oursMedianMs !== undefined && result.qemuMedianMs !== undefined) {
    result.ratio = result.oursMedianMs / result.qemuMedianMs;
    if (theirsCut) result.ratioBound = "<";
  }
  if (errors.length > 0) result.error = [...new Set(errors)].join("; ");
  if (row.note) result.note = row.note(ctx);
  result.met = budgetMet(row, result, ctx);
  return [result];
}

async function measure(row, inputs) {
  const base = { id: row.id, title: row.title, runs: RUNS, budget: row.budget?.text ?? null };
  let ctx;
  try {
    ctx = await row.setup(inputs);
  } catch (e) {
    return [{ ...base, error: `building the input failed: ${message(e)}`, met: row.budget ? false : null }];
  }
  if (!row.measure) return measureProcesses(row, ctx, base);
  // A measured row reports its own figures: one result or several ({ id, title, ours, qemu?, ratio?, budget, met, note }).
  try {
    const out = await row.measure(ctx, { runs: RUNS });
    return (Array.isArray(out) ? out : [out]).map((r) => ({ ...base, ...r }));
  } catch (e) {
    return [{ ...base, error: message(e), met: row.budget ? false : null }];
  } finally {
    await row.teardown?.(ctx);
  }
}

function message(e) {
  return e instanceof Error ? e.message : String(e);
}

function tableLines(results) {
  const head = ["row", "ours (median)", "QEMU (median)", "ours/QEMU", "budget", "met", "notes"];
  const lines = results.map((r) => [
    r.title,
    r.ours ?? "—",
    r.qemu ?? "—",
    r.ratio === undefined
      ? "—"
      : `${r.ratioBound ? r.ratioBound + " " : ""}${r.ratio.toFixed(r.ratio < 0.01 ? 3 : 2)}×`,
    r.budget ?? "none set",
    r.error ? "ERROR" : r.met === null || r.met === undefined ? "—" : r.met ? "yes" : "NO",
    r.note ?? "",
  ]);
  return { head, lines };
}

function printTable(results) {
  const { head, lines } = tableLines(results);
  if (markdown) {
    const esc = (c) => c.replace(/\|/g, "\\|");
    console.log("| " + head.join(" | ") + " |");
    console.log("| " + head.map((_, i) => (i >= 1 && i <= 3 ? "---:" : "---")).join(" | ") + " |");
    for (const l of lines) console.log("| " + l.map(esc).join(" | ") + " |");
  } else {
    const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const fmt = (l) => "| " + l.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
    console.log(fmt(head));
    console.log("| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |");
    for (const l of lines) console.log(fmt(l));
  }
  for (const r of results) if (r.error) console.log(`\n${r.id}: could not be measured: ${r.error}`);
}

const t0 = Date.now();
const cli = spawnSync(process.execPath, [join(ROOT, "scripts", "build-cli.mjs")], { stdio: "inherit" });
if (cli.status !== 0) process.exit(1);
// The in-process measurements run the engine from a bundle of their own, as the CLI does.
await build({
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
  entryPoints: [join(ROOT, "bench", "inproc.ts")],
  outfile: join(ROOT, "dist", "bench-inproc.mjs"),
});

const extraCaCerts = dropExtraCaCerts();
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  qemu: version("qemu-img", ["--version"]),
  chromium: version("/usr/bin/chromium", ["--version"]),
  nodeExtraCaCerts: extraCaCerts,
  loadBefore: loadavg().map((x) => Number(x.toFixed(2))),
};
const dir = mkdtempSync(join(tmpdir(), "vhdx-bench-"));
const results = [];
try {
  const inputs = new Inputs(dir);
  for (const row of await loadRows()) {
    process.stderr.write(`bench: ${row.title} …\n`);
    results.push(...(await measure(row, inputs)));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
machine.loadAfter = loadavg().map((x) => Number(x.toFixed(2)));
const seconds = Math.round((Date.now() - t0) / 1000);

console.log(
  `\n${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.qemu}, ${machine.chromium}`,
);
console.log(
  `${RUNS} runs each, median; whole processes for the QEMU rows; ratio < 1 means ours is faster; ` +
    `load average ${machine.loadBefore[0]} before, ${machine.loadAfter[0]} after; ${seconds} s in all\n`,
);
if (extraCaCerts) {
  console.log(
    `NODE_EXTRA_CA_CERTS was set (${extraCaCerts.file}); every process above ran without it. With it, each Node ` +
      `start takes ${fmtMs(extraCaCerts.costMs)} more (node -e 0, median of 7).\n`,
  );
}
printTable(results);
const out = join(ROOT, "bench", "results.json");
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), seconds, machine, results }, null, 2) + "\n");
console.log(`\nwritten: ${out}`);
process.exit(results.some((r) => r.error) ? 1 : 0);
