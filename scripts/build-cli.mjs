// Bundles the `vhdx` command (src/cli) into one CommonJS file, dist/cli/cli.cjs, so that `npx vhdx`
// starts fast without a TypeScript loader, then makes V8's code cache for it, dist/cli/cli.cache (see
// bin/load-cli.cjs and scripts/train-cli-cache.mjs); and the sample maker into
// dist/cli/make-sample.mjs. The command has its own folder: `vite build` empties only dist/web. Runs on `npm install` (prepare) and before tests; `--sample` then also
// writes the editor's sample, public/sample.vhdx.
// One file rather than a chunk per command: with the code cache, loading is a matter of reading
// it, and each further module file would cost Node's module loader about half a millisecond.
// main.ts still imports a command's modules only when it runs, so their code runs only then.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";

// What earlier layouts of dist/ left behind, and a cache made for another bundle.
const OLD = ["dist/chunks", "dist/cli.mjs", "dist/cli.mjs.map", "dist/cli.cjs", "dist/cli.cjs.map", "dist/cli.cache"];
for (const old of [...OLD, "dist/make-sample.mjs", "dist/make-sample.mjs.map", "dist/cli/cli.cache"]) {
  rmSync(old, { recursive: true, force: true });
}
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  // The command's few dependencies (uuid) go into its bundle: resolving and loading a package's
  // modules from node_modules costs about 10 ms of every start. uuid's Node build imports
  // node:crypto when loaded (about 3 ms); its browser build calls the global crypto's
  // getRandomValues when a GUID is first made (about 1.5 ms, and only then). Node ≥ 19 has it.
  alias: { uuid: "./node_modules/uuid/dist/esm-browser/index.js" },
};
// A fresh id on the bundle's first line: its code cache is taken only with this very bundle (see
// bin/load-cli.cjs).
await build({
  ...common,
  format: "cjs",
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/cli/cli.cjs",
  banner: { js: `// vhdx build ${randomBytes(16).toString("hex")}` },
});
await build({
  ...common,
  format: "esm",
  entryPoints: ["src/node/makeSampleMain.ts"],
  outfile: "dist/cli/make-sample.mjs",
});
execFileSync(process.execPath, ["scripts/train-cli-cache.mjs"], { stdio: "inherit" });
if (process.argv.includes("--sample")) {
  execFileSync(process.execPath, ["dist/cli/make-sample.mjs", "public/sample.vhdx"], { stdio: "inherit" });
}
