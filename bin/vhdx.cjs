#!/usr/bin/env node
// The `vhdx` command. The TypeScript source is in src/cli; `npm install` bundles it to dist/cli/cli.cjs.
// CommonJS on purpose: Node loads an ES module entry with asynchronous reads, which start libuv's
// thread pool before the first line below runs, and the pool's size is read when it starts.
"use strict";
const { availableParallelism } = require("node:os");

// File I/O runs on libuv's thread pool, four threads unless told otherwise. On a machine with
// fewer cores, the extra threads only contend with each other and with the main thread. Set here,
// before any asynchronous I/O, it takes effect; a value the user set is kept.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, Math.min(4, availableParallelism())));

const { BUNDLE, loadCli } = require("./load-cli.cjs");

let cli;
try {
  cli = loadCli();
} catch (e) {
  if (e?.code !== "ENOENT" || e.path !== BUNDLE) throw e;
  process.stderr.write("vhdx: the command is not built yet; run `npm run build:cli` in the project folder\n");
  process.exit(2);
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
