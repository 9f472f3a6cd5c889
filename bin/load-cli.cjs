// Loads the bundled command, dist/cli.cjs, with V8's code cache for it, dist/cli.cache, made by
// `npm run build:cli` after a run of the common commands (scripts/train-cli-cache.mjs). With the
// cache V8 skips parsing and compiling what those commands ran. The cache is only read here,
// never written: a cache V8 does not accept (another Node, another bundle) is ignored and the
// bundle compiles as usual.
"use strict";
const { readFileSync } = require("node:fs");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

const BUNDLE = join(__dirname, "..", "dist", "cli.cjs");
const CODE_CACHE = join(__dirname, "..", "dist", "cli.cache");

/**
 * Compiles and runs the bundle as the CommonJS module it is; returns its exports' `main`, the
 * compiled script (for `createCachedData`) and whether V8 took the cache.
 * @param {{ useCache?: boolean }} [o]
 */
function loadCli(o = {}) {
  const source = readFileSync(BUNDLE, "utf8");
  let cachedData;
  if (o.useCache ?? true) {
    try {
      cachedData = readFileSync(CODE_CACHE);
    } catch {
      // built without a cache: compile as usual
    }
  }
  // The wrapper Node puts around a CommonJS module; the cache was made for exactly this text.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, BUNDLE, dirname(BUNDLE));
  return { main: module.exports.main, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

module.exports = { BUNDLE, CODE_CACHE, loadCli };
