// `npm run fuzz [-- cases-per-seed [base-seed]]`: the hostile-input properties of
// test/hostile with many more cases than `npm test` runs. Bundles the TypeScript entry with
// esbuild (already used for the CLI) and runs it; prints cases run and failures found.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(root, ".tmp/fuzz.mjs");
mkdirSync(dirname(out), { recursive: true });
await build({
  entryPoints: [resolve(root, "test/hostile/fuzzMain.ts")],
  outfile: out,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
