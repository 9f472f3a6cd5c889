#!/usr/bin/env node
// `npm run bench [-- filter…]`: each row compares our command with QEMU's on the same file, as whole
// processes, several runs interleaved, and reports the medians, the ratio (ours / QEMU) and the budget.
// Rows are the modules in bench/rows/ (see bench/README.md). Results also go to bench/results.json.
// It never fails `npm test`: it is not part of it. Exit code 1 only when a row could not be measured.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Inputs, median, ROOT, timeProcess } from "../bench/lib.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const filters = process.argv.slice(2);

function version(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n")[0].trim() : "not found";
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

function fmtMs(ms) {
  return ms === undefined ? "—" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

async function measure(row, inputs) {
  const result = { id: row.id, title: row.title, runs: RUNS, budget: row.budget?.text ?? null };
  const errors = [];
  let ctx;
  try {
    ctx = await row.setup(inputs);
  } catch (e) {
    result.error = `building the input failed: ${message(e)}`;
    result.met = row.budget ? false : null;
    return result;
  }
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
  // One untimed warm-up each (page cache, binaries), then interleaved runs so drift hits both alike.
  for (let i = -1; i < RUNS; i++) {
    if (oursOk) {
      try {
        const a = timeProcess(row.ours(ctx)).ms;
        if (i >= 0) ours.push(a);
      } catch (e) {
        oursOk = false;
        ours.length = 0;
        errors.push(message(e));
      }
      row.afterEach?.(ctx);
    }
    try {
      const b = timeProcess(row.theirs(ctx)).ms;
      if (i >= 0) theirs.push(b);
    } catch (e) {
      errors.push(`QEMU side: ${message(e)}`);
      break;
    }
    row.afterEach?.(ctx);
  }
  if (ours.length === RUNS) {
    result.oursMs = ours;
    result.oursMedianMs = median(ours);
  }
  if (theirs.length === RUNS) {
    result.qemuMs = theirs;
    result.qemuMedianMs = median(theirs);
  }
  if (result.oursMedianMs !== undefined && result.qemuMedianMs !== undefined) {
    result.ratio = result.oursMedianMs / result.qemuMedianMs;
  }
  if (errors.length > 0) result.error = [...new Set(errors)].join("; ");
  result.met = !row.budget ? null : result.ratio !== undefined && !result.error && result.ratio <= row.budget.maxRatio;
  return result;
}

function message(e) {
  return e instanceof Error ? e.message : String(e);
}

function printTable(results) {
  const head = ["row", "ours (median)", "QEMU (median)", "ours/QEMU", "budget", "met"];
  const lines = results.map((r) => [
    r.title,
    fmtMs(r.oursMedianMs),
    fmtMs(r.qemuMedianMs),
    r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`,
    r.budget ?? "none set",
    r.error ? "ERROR" : r.met === null ? "—" : r.met ? "yes" : "NO",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l) => "| " + l.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  console.log(fmt(head));
  console.log("| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |");
  for (const l of lines) console.log(fmt(l));
  for (const r of results) if (r.error) console.log(`\n${r.id}: could not be measured: ${r.error}`);
}

const build = spawnSync(process.execPath, [join(ROOT, "scripts", "build-cli.mjs")], { stdio: "inherit" });
if (build.status !== 0) process.exit(1);

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  qemu: version("qemu-img", ["--version"]),
};
const dir = mkdtempSync(join(tmpdir(), "vhdx-bench-"));
const results = [];
try {
  const inputs = new Inputs(dir);
  for (const row of await loadRows()) {
    process.stderr.write(`bench: ${row.title} …\n`);
    results.push(await measure(row, inputs));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.qemu}`);
console.log(`${RUNS} runs each, whole processes, median; ratio < 1 means ours is faster\n`);
printTable(results);
const out = join(ROOT, "bench", "results.json");
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2) + "\n");
console.log(`\nwritten: ${out}`);
process.exit(results.some((r) => r.error) ? 1 : 0);
