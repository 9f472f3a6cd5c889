// Loads the bundled command, dist/cli/cli.cjs, with V8's code cache for it, dist/cli/cli.cache, made by
// `npm run build:cli` after a run of the common commands (scripts/train-cli-cache.mjs). With the
// cache V8 skips parsing and compiling what those commands ran. The cache is only read here,
// never written: a cache made for another build (see buildId) or one V8 does not accept (another
// Node) is ignored, and the bundle compiles as usual.
"use strict";
const { readFileSync } = require("node:fs");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

const BUNDLE = join(__dirname, "..", "dist", "cli", "cli.cjs");
const CODE_CACHE = join(__dirname, "..", "dist", "cli", "cli.cache");

/**
 * Compiles and runs the bundle as the CommonJS module it is; returns its exports' `main`, the
 * compiled script (for `createCachedData`) and whether V8 took the cache.
 * @param {{ useCache?: boolean }} [o]
 */
function loadCli(o = {}) {
  const source = readFileSync(BUNDLE, "utf8");
  const cachedData = o.useCache === false ? undefined : cacheFor(source);
  // The wrapper Node puts around a CommonJS module; the cache was made for exactly this text.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, BUNDLE, dirname(BUNDLE));
  return { main: module.exports.main, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

/**
 * The bundle's build id: its first line, `// vhdx build <id>`, written by the build. The cache file
 * starts with the id of the bundle it was made from and a newline. V8 checks a cache against the
 * source's length only, so a cache from another build of the same length would be taken, and run
 * code the bundle no longer holds: the id rules that out.
 */
function buildId(source) {
  const m = /^\/\/ vhdx build ([0-9a-f]{32})\n/.exec(source);
  return m ? m[1] : null;
}

/** The cache made for this very bundle, or undefined. */
function cacheFor(source) {
  const id = buildId(source);
  if (!id) return undefined;
  let file;
  try {
    file = readFileSync(CODE_CACHE);
  } catch {
    return undefined; // built without a cache: compile as usual
  }
  const header = `${id}\n`;
  if (file.length <= header.length || file.toString("latin1", 0, header.length) !== header) return undefined;
  return file.subarray(header.length);
}

module.exports = { BUNDLE, CODE_CACHE, buildId, loadCli };
