// Bundles the `vhdx` command (src/cli) into dist/cli.mjs so that `npx vhdx` starts fast without a
// TypeScript loader, and the sample maker into dist/make-sample.mjs. Runs on `npm install`
// (prepare) and before tests; `--sample` then also writes the editor's sample, public/sample.vhdx.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  packages: "external",
  logLevel: "warning",
};
// The command's few dependencies (uuid) go into its bundle: resolving and loading a package's
// modules from node_modules costs about 10 ms of every start.
await build({ ...common, packages: undefined, entryPoints: ["src/cli/main.ts"], outfile: "dist/cli.mjs" });
await build({ ...common, entryPoints: ["src/node/makeSampleMain.ts"], outfile: "dist/make-sample.mjs" });
if (process.argv.includes("--sample")) {
  execFileSync(process.execPath, ["dist/make-sample.mjs", "public/sample.vhdx"], { stdio: "inherit" });
}
