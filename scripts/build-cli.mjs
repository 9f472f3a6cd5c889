// Bundles the `vhdx` command (src/cli) into dist/cli.mjs so that `npx vhdx` starts fast without a
// TypeScript loader, and the sample maker into dist/make-sample.mjs. Runs on `npm install`
// (prepare) and before tests; `--sample` then also writes the editor's sample, public/sample.vhdx.
// Code splitting: each command's modules sit in their own chunks under dist/chunks/, which main.ts
// imports only when that command runs, so a start reads and compiles only what it uses.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

// Chunks carry a content hash in their names: old ones would pile up.
rmSync("dist/chunks", { recursive: true, force: true });
await build({
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  // The command's few dependencies (uuid) go into its bundle: resolving and loading a package's
  // modules from node_modules costs about 10 ms of every start. uuid's Node build imports
  // node:crypto when loaded (about 3 ms); its browser build calls the global crypto's
  // getRandomValues when a GUID is first made (about 1.5 ms, and only then). Node ≥ 19 has it.
  alias: { uuid: "./node_modules/uuid/dist/esm-browser/index.js" },
  logLevel: "warning",
  splitting: true,
  outdir: "dist",
  // bin/vhdx.mjs imports dist/cli.mjs; the sample is made by dist/make-sample.mjs.
  entryPoints: { cli: "src/cli/main.ts", "make-sample": "src/node/makeSampleMain.ts" },
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
});
if (process.argv.includes("--sample")) {
  execFileSync(process.execPath, ["dist/make-sample.mjs", "public/sample.vhdx"], { stdio: "inherit" });
}
