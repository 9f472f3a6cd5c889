#!/usr/bin/env node
// `npm test`: the one command that runs every test.
//  1. makes sure the Debian packages the tests use are installed (installs them when root with apt-get,
//     otherwise stops and prints the command to run);
//  2. bundles the `vhdx` command;
//  3. runs Vitest, then Playwright (when e2e/*.spec.ts exist);
//  4. prints `tests: N passed, N failed[, N skipped]` and exits non-zero on any failure or when nothing ran.
// Arguments are handed to Vitest (`npm test -- test/node`); with arguments, the e2e run is left out.
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const isCI = /^(1|true|yes)$/i.test(process.env.CI ?? "");
// The tools are installed before the tests run: the test helpers then treat a missing one as a
// failure (as under CI=true) rather than a reason to skip (test/helpers/tools.ts).
process.env.VHDX_TEST_STRICT = "1";
const vitestArgs = process.argv.slice(2);

// Type checking, ESLint and the formatter run first (VHDX_TEST_LINT=0 leaves them out, for quick local runs).
const RUN_LINT = process.env.VHDX_TEST_LINT !== "0";

/** What the tests call, and the Debian package that provides it. */
const REQUIREMENTS = [
  { what: "qemu-img", pkg: "qemu-utils", present: () => onPath("qemu-img") },
  { what: "qemu-io", pkg: "qemu-utils", present: () => onPath("qemu-io") },
  { what: "vhdiinfo", pkg: "libvhdi-utils", present: () => onPath("vhdiinfo") },
  { what: "/usr/bin/chromium", pkg: "chromium", present: () => executable("/usr/bin/chromium") },
  { what: "strace", pkg: "strace", present: () => onPath("strace") },
  { what: "gcc (builds the crash-test shim)", pkg: "gcc", present: () => onPath("gcc") },
  {
    what: "hexdump (the hex view's dump format is checked against it)",
    pkg: "bsdextrautils",
    present: () => onPath("hexdump"),
  },
  { what: "xxd (the hex view's C array format is checked against it)", pkg: "xxd", present: () => onPath("xxd") },
  {
    what: "filefrag (convert finds a raw input's holes with it)",
    pkg: "e2fsprogs",
    present: () => executable("/usr/sbin/filefrag") || executable("/sbin/filefrag"),
  },
  { what: "/usr/bin/time (peak memory of streamed writes)", pkg: "time", present: () => executable("/usr/bin/time") },
  { what: "chattr (an immutable child in the merge tests)", pkg: "e2fsprogs", present: () => onPath("chattr") },
  {
    what: "vhdimount and fusermount (libvhdi reads a differencing chain before and after a merge)",
    pkg: "fuse3",
    present: () => onPath("vhdimount") && onPath("fusermount"),
  },
  {
    what: "fallocate (makes the preallocated input of the holes test)",
    pkg: "util-linux",
    present: () => onPath("fallocate"),
  },
  {
    what: "mkfs.fat (FAT fixtures)",
    pkg: "dosfstools",
    present: () => onPath("mkfs.fat") || executable("/usr/sbin/mkfs.fat") || executable("/sbin/mkfs.fat"),
  },
  { what: "mcopy (FAT fixtures)", pkg: "mtools", present: () => onPath("mcopy") },
  {
    what: "sgdisk (GPT fixtures)",
    pkg: "gdisk",
    present: () => onPath("sgdisk") || executable("/usr/sbin/sgdisk") || executable("/sbin/sgdisk"),
  },
  {
    what: "sfdisk (MBR fixtures)",
    pkg: "fdisk",
    present: () => onPath("sfdisk") || executable("/usr/sbin/sfdisk") || executable("/sbin/sfdisk"),
  },
  {
    what: "mke2fs, e2fsck, debugfs, dumpe2fs (make the ext test images)",
    pkg: "e2fsprogs",
    present: () => onPath("mke2fs"),
  },
  {
    what: "mkntfs, ntfs-3g (NTFS fixtures, filled through FUSE)",
    pkg: "ntfs-3g",
    present: () =>
      onPath("ntfs-3g") && (onPath("mkntfs") || executable("/usr/sbin/mkntfs") || executable("/sbin/mkntfs")),
  },
  {
    what: "mkfs.exfat (exFAT fixtures)",
    pkg: "exfatprogs",
    present: () => onPath("mkfs.exfat") || executable("/usr/sbin/mkfs.exfat") || executable("/sbin/mkfs.exfat"),
  },
  {
    what: "mount.exfat-fuse (exFAT fixtures are filled through FUSE)",
    pkg: "exfat-fuse",
    present: () =>
      onPath("mount.exfat-fuse") || executable("/usr/sbin/mount.exfat-fuse") || executable("/sbin/mount.exfat-fuse"),
  },
  {
    what: "fusermount (unmounts the FUSE fixtures)",
    pkg: "fuse3",
    present: () => onPath("fusermount") || onPath("fusermount3"),
  },
  { what: "setfattr (NTFS compression and streams through ntfs-3g)", pkg: "attr", present: () => onPath("setfattr") },
  {
    what: "losetup (exFAT fixtures are mounted from a loop device)",
    pkg: "mount",
    present: () => onPath("losetup") || executable("/usr/sbin/losetup") || executable("/sbin/losetup"),
  },
  {
    what: "fls, icat, istat (file systems are checked against The Sleuth Kit)",
    pkg: "sleuthkit",
    present: () => onPath("fls"),
  },

  { what: "perl (the CLI takes QEMU's file locks with it)", pkg: "perl-base", present: () => onPath("perl") },
];

function executable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  return (process.env.PATH ?? "").split(delimiter).some((d) => d && executable(join(d, name)));
}

function step(title) {
  process.stdout.write(`\n== ${title}\n`);
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function finish(passed, failed, skipped, notes = []) {
  for (const n of notes) process.stdout.write(`${n}\n`);
  const extra = skipped > 0 ? `, ${skipped} skipped` : "";
  process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${extra}\n`);
  if (failed === 0 && passed === 0) process.stdout.write("no test ran: that is a failure\n");
  // Every tool is installed above, so every test must run: a skipped one is a failure too.
  if (skipped > 0) process.stdout.write("a test was skipped: that is a failure\n");
  process.exit(failed > 0 || passed === 0 || skipped > 0 ? 1 : 0);
}

// ---- 1. Debian packages -------------------------------------------------------------------------
function ensurePackages() {
  const missing = REQUIREMENTS.filter((r) => !r.present());
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((r) => r.pkg))];
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const sudo = isRoot ? "" : "sudo ";
  const command = `${sudo}apt-get update && ${sudo}apt-get install -y ${pkgs.join(" ")}`;
  step(`missing: ${missing.map((r) => r.what).join(", ")}`);
  if (!isRoot || !onPath("apt-get")) {
    process.stderr.write(
      `The tests need Debian packages that are not installed. Run:\n\n  ${command}\n\nthen \`npm test\` again.\n`,
    );
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  step("apt-get update");
  if (sh("apt-get", ["update"], { env }) !== 0) fail(`apt-get update failed; run by hand: ${command}`);
  step(`apt-get install -y ${pkgs.join(" ")}`);
  if (sh("apt-get", ["install", "-y", ...pkgs], { env }) !== 0) fail(`apt-get install failed; run by hand: ${command}`);
  const still = REQUIREMENTS.filter((r) => !r.present());
  if (still.length > 0) fail(`still missing after install: ${still.map((r) => r.what).join(", ")}`);
}

/**
 * Runs a command with its output held back (another runner is printing), resolving to its exit
 * code and what it printed, stdout and stderr interleaved as they came.
 */
function shQuiet(cmd, args, opts = {}) {
  return new Promise((resolvePromise) => {
    const chunks = [];
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], ...opts });
    child.stdout.on("data", (c) => chunks.push(c));
    child.stderr.on("data", (c) => chunks.push(c));
    child.on("error", (err) => chunks.push(Buffer.from(`${cmd}: ${err.message}\n`)));
    child.on("close", (code) => resolvePromise({ code: code ?? 1, output: Buffer.concat(chunks).toString() }));
  });
}

/** Runs a command with the terminal, without blocking the other runners. */
function shLive(cmd, args, opts = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd: root, stdio: "inherit", ...opts });
    child.on("error", () => resolvePromise(1));
    child.on("close", (code) => resolvePromise(code ?? 1));
  });
}

function fail(message) {
  process.stderr.write(`npm test: ${message}\n`);
  process.exit(1);
}

// ---- 3. test runners, each reporting counts through its JSON reporter ---------------------------
async function runVitest(reportDir) {
  const out = join(reportDir, "vitest.json");
  const code = await shLive("npx", [
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${out}`,
    ...vitestArgs,
  ]);
  const counts = { passed: 0, failed: 0, skipped: 0, notes: [] };
  if (existsSync(out)) {
    const j = JSON.parse(readFileSync(out, "utf8"));
    counts.passed = j.numPassedTests ?? 0;
    counts.failed = j.numFailedTests ?? 0;
    counts.skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
    // A file that failed to load or whose hooks threw has no failed test of its own: count it once.
    for (const f of j.testResults ?? []) {
      const ownFailures = (f.assertionResults ?? []).filter((a) => a.status === "failed").length;
      if (f.status === "failed" && ownFailures === 0) {
        counts.failed++;
        counts.notes.push(`failed file: ${f.name}`);
      }
    }
  }
  if (code !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.notes.push(`vitest exited with code ${code}`);
  }
  return counts;
}

function e2eSpecs() {
  const dir = join(root, "e2e");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".spec.ts"));
}

/** Playwright's run; its output is held back and printed by the caller (`output`). */
async function runPlaywright(reportDir) {
  const out = join(reportDir, "playwright.json");
  // One build of the app (with the tests' harness page) served to every test: a bundled page
  // loads far faster than the development server's module graph (playwright.config.ts).
  const build = await shQuiet("npx", ["vite", "build", "--mode", "e2e", "--logLevel", "error"]);
  if (build.code !== 0) {
    const notes = ["building the app for the end-to-end tests failed"];
    return { passed: 0, failed: 1, skipped: 0, notes, output: build.output };
  }
  const env = { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: out, VHDX_E2E_BUILT: "1" };
  const { code, output } = await shQuiet("npx", ["playwright", "test", "--reporter=list,json"], { env });
  const counts = { passed: 0, failed: 0, skipped: 0, notes: [] };
  if (existsSync(out)) {
    const s = JSON.parse(readFileSync(out, "utf8")).stats ?? {};
    counts.passed = (s.expected ?? 0) + (s.flaky ?? 0);
    counts.failed = s.unexpected ?? 0;
    counts.skipped = s.skipped ?? 0;
  }
  if (code !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.notes.push(`playwright exited with code ${code}`);
  }
  return { ...counts, output: build.output + output };
}

/** Type check, ESLint and Prettier in turn; their output held back like Playwright's. */
async function runLint() {
  const results = [];
  for (const [label, script] of [
    ["typecheck", "typecheck"],
    ["eslint", "lint"],
    ["prettier", "format:check"],
  ]) {
    const { code, output } = await shQuiet("npm", ["run", "--silent", script]);
    results.push({ label, code, output });
  }
  return results;
}

// ---- main ---------------------------------------------------------------------------------------
step("checking the tools the tests use");
ensurePackages();

step("bundling the vhdx command");
if (sh(process.execPath, ["scripts/build-cli.mjs", "--sample"]) !== 0)
  fail("building the CLI bundle and the sample failed");
process.env.VHDX_CLI_BUILT = "1"; // test/global-setup.ts need not build it again

const reportDir = mkdtempSync(join(tmpdir(), "vhdx-test-report-"));
const total = { passed: 0, failed: 0, skipped: 0, notes: [] };
const add = (c, label) => {
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
  total.notes.push(`${label}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`, ...c.notes);
};
try {
  // Vitest's files are mostly processes (qemu-img, the command, mkfs …) and the end-to-end tests
  // mostly a browser waiting on its worker: run side by side, with the lint steps, they finish
  // well before they would one after another. Vitest prints as it goes; the others print when
  // Vitest is done.
  const specs = e2eSpecs();
  const withE2e = specs.length > 0 && vitestArgs.length === 0;
  const lint = RUN_LINT ? runLint() : Promise.resolve([]);
  const e2e = withE2e ? runPlaywright(reportDir) : Promise.resolve(null);
  step(
    `vitest${RUN_LINT ? ", with the type check, ESLint and Prettier" : ""}${withE2e ? ` and playwright (${specs.length} spec files)` : ""} alongside`,
  );
  const unit = await runVitest(reportDir);
  for (const r of await lint) {
    step(r.label);
    process.stdout.write(r.output);
    add({ passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1, skipped: 0, notes: [] }, r.label);
  }
  add(unit, "vitest");
  const pw = await e2e;
  if (pw) {
    step(`playwright (${specs.length} spec file${specs.length === 1 ? "" : "s"})`);
    process.stdout.write(pw.output);
    add(pw, "playwright");
  } else if (specs.length === 0) {
    total.notes.push("playwright: no e2e/*.spec.ts yet");
  }
} finally {
  rmSync(reportDir, { recursive: true, force: true });
}
if (isCI) total.notes.push("CI=true: missing peer tools fail the run");
finish(total.passed, total.failed, total.skipped, total.notes);
