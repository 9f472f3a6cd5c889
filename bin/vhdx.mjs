#!/usr/bin/env node
// The `vhdx` command. The TypeScript source is in src/cli; `npm install` bundles it to dist/.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const bundle = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write("vhdx: the command is not built yet; run `npm run build:cli` in the project folder\n");
  process.exit(2);
}
const { main } = await import(pathToFileURL(bundle).href);
process.exitCode = await main(process.argv.slice(2));
