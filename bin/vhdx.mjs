#!/usr/bin/env node
// The `vhdx` command. The TypeScript source is in src/cli; `npm install` bundles it to dist/.
import { existsSync } from "node:fs";
import module from "node:module";
import { availableParallelism } from "node:os";

// File I/O runs on libuv's thread pool, four threads unless told otherwise. On a machine with
// fewer cores, the extra threads only contend with each other and with the main thread (a 1 GiB
// convert on two cores: about 15 % faster with two threads). Read when the pool first starts, so
// setting it here, before any asynchronous I/O, is enough; a value the user set is kept.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, Math.min(4, availableParallelism())));

// Node ≥ 22.1 keeps V8's compiled code of the bundle between runs (a few ms of every start);
// Node 20 has no such cache for ES modules, and this is then a no-op.
module.enableCompileCache?.();
import { fileURLToPath, pathToFileURL } from "node:url";

const bundle = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write("vhdx: the command is not built yet; run `npm run build:cli` in the project folder\n");
  process.exit(2);
}
const { main } = await import(pathToFileURL(bundle).href);
process.exitCode = await main(process.argv.slice(2));
