/**
 * How the `vhdx` command starts (bin/vhdx.cjs, bin/load-cli.cjs): V8 takes the code cache the
 * build made for the bundle, a bundle changed since is compiled without it, and the thread pool
 * has the size the entry point sets (which an ES module entry could not do: Node starts the pool
 * while loading one). `npm test` builds the command before the tests run.
 */
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../helpers/tmp";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const LOADER = join(ROOT, "bin", "load-cli.cjs");

function node(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the command's start", () => {
  const tmp = useTempDir("vhdx-start-");

  it("V8 accepts the code cache made for the bundle, and the command runs with it", () => {
    const probe = `const r = require(${JSON.stringify(LOADER)}).loadCli(); console.log(JSON.stringify({ cached: r.cached, main: typeof r.main }));`;
    const r = node(["-e", probe]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ cached: true, main: "function" });
    const v = node([join(ROOT, "bin", "vhdx.cjs"), "--version"]);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^vhdx \d+\.\d+\.\d+\n$/);
  });

  it("the bundle makes no import() of its own: a script compiled by node:vm could not run one", () => {
    // esbuild turns imports between bundled modules into lazy initialisers; a dynamic import of a
    // Node module would stay an import() and fail at run time with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING.
    const bundle = readFileSync(join(ROOT, "dist", "cli", "cli.cjs"), "utf8");
    expect(bundle.length).toBeGreaterThan(10_000);
    expect(bundle).not.toMatch(/\bimport\s*\(/);
  });

  /**
   * Runs `--version` through the loader with its bundle and cache paths pointed elsewhere; returns
   * whether the cache was taken and what the command printed.
   */
  function loadWith(bundle: string, cache: string): { cached: boolean; out: string } {
    const loader = readFileSync(LOADER, "utf8")
      .replace('join(__dirname, "..", "dist", "cli", "cli.cjs")', JSON.stringify(bundle))
      .replace('join(__dirname, "..", "dist", "cli", "cli.cache")', JSON.stringify(cache));
    expect(loader).toContain(JSON.stringify(bundle));
    expect(loader).toContain(JSON.stringify(cache));
    const probe = `const m = { exports: {} }; new Function("module", "exports", "require", "__dirname", ${JSON.stringify(loader)})(m, m.exports, require, ${JSON.stringify(join(ROOT, "bin"))}); const r = m.exports.loadCli(); r.main(["--version"], { out: (s) => console.log(JSON.stringify({ cached: r.cached, out: s })), outBytes: async () => {} });`;
    const r = node(["-e", probe]);
    expect(r.stderr).toBe("");
    return JSON.parse(r.stdout) as { cached: boolean; out: string };
  }

  it("a cache made for another script is not used, and the command still runs", () => {
    const other = tmp.path("other.cache");
    const make = `const vm = require("node:vm"); const s = new vm.Script("1 + 1"); s.runInThisContext(); require("node:fs").writeFileSync(${JSON.stringify(other)}, s.createCachedData());`;
    expect(node(["-e", make]).status).toBe(0);
    expect(loadWith(join(ROOT, "dist", "cli", "cli.cjs"), other)).toEqual({ cached: false, out: "vhdx 0.1.0\n" });
  });

  it("a cache from another build of the same length is not used, though V8 alone would take it", () => {
    // Another build: the same bundle under another id (same length), beside this build's cache.
    const source = readFileSync(join(ROOT, "dist", "cli", "cli.cjs"), "utf8");
    const id = /^\/\/ vhdx build ([0-9a-f]{32})\n/.exec(source)![1];
    const otherId = id.replace(/./g, (c) => (c === "0" ? "1" : "0"));
    const bundle = tmp.path("cli.cjs");
    writeFileSync(bundle, source.replace(id, otherId));
    const cache = join(ROOT, "dist", "cli", "cli.cache");
    expect(loadWith(bundle, cache)).toEqual({ cached: false, out: "vhdx 0.1.0\n" });
    // V8 checks a cache against the source's length only: without the id it would have been taken.
    const data = readFileSync(cache).subarray(id.length + 1);
    const wrap = (s: string) => `(function (exports, require, module, __filename, __dirname) {${s}\n})`;
    const v8Only = `const vm = require("node:vm"); const fs = require("node:fs"); const s = new vm.Script(${JSON.stringify(wrap(source.replace(id, otherId)))}, { filename: ${JSON.stringify(bundle)}, cachedData: fs.readFileSync(${JSON.stringify(tmp.path("data.bin"))}) }); console.log(s.cachedDataRejected);`;
    writeFileSync(tmp.path("data.bin"), data);
    writeFileSync(tmp.path("v8only.cjs"), v8Only);
    expect(node([tmp.path("v8only.cjs")]).stdout.trim()).toBe("false");
  });

  it("runs file I/O on as many pool threads as it sets, not libuv's default four", async () => {
    if (process.platform !== "linux") return;
    // A write from stdin holds the process open, its image already opened (the pool started),
    // while its threads are counted. The pool's threads are the difference from a run whose pool
    // is told to have one thread.
    const img = tmp.path("pool.vhdx");
    expect(node([join(ROOT, "bin", "vhdx.cjs"), "create", img, "--size", "8M"]).status).toBe(0);
    const one = await threadsWhileWaiting(img, "1");
    const chosen = await threadsWhileWaiting(img, undefined);
    expect(chosen - one + 1).toBe(Math.max(2, Math.min(4, availableParallelism())));
    expect((await threadsWhileWaiting(img, "3")) - one + 1).toBe(3);
  });
});

async function threadsWhileWaiting(img: string, poolSize: string | undefined): Promise<number> {
  const env = { ...process.env };
  delete env.UV_THREADPOOL_SIZE;
  if (poolSize) env.UV_THREADPOOL_SIZE = poolSize;
  const child = spawn(process.execPath, [join(ROOT, "bin", "vhdx.cjs"), "write", img, "--offset", "0"], {
    env,
    stdio: ["pipe", "ignore", "pipe"],
  });
  // Counted once the image is open (the pool has run its first task) and the count holds still
  // over five samples in a row; however long a loaded machine takes to get there.
  const deadline = Date.now() + 120_000;
  while (!holdsOpen(child.pid!, img)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("the command never opened the image");
    await new Promise((r) => setTimeout(r, 50));
  }
  let count = threadCount(child.pid!);
  for (let same = 0; same < 5 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = threadCount(child.pid!);
    same = now === count ? same + 1 : 0;
    count = now;
  }
  child.stdin.end(new Uint8Array(512));
  const status = await new Promise((r) => child.on("close", r));
  expect(status).toBe(0);
  return count;
}

/** Whether process `pid` has `path` open. */
function holdsOpen(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}
