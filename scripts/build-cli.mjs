// Bundles the `vhdx` command (src/cli) into dist/cli.mjs so that `npx vhdx` starts fast
// without a TypeScript loader. Runs on `npm install` (prepare) and before tests.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/cli.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  packages: "external",
  logLevel: "warning",
});
