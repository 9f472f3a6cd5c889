// Builds the engine as a library into dist/lib: ES modules for Node (index.js, node.js, fs.js —
// the package's "exports", see package.json — and the chunks they share) and their TypeScript
// declarations in dist/lib/types (tsc -p tsconfig.lib.json). Runs in `npm run build` and before
// `npm pack`. The one runtime dependency, uuid, goes into the bundle, so the package has none.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist", "lib");
const TYPES = join(OUT, "types");

rmSync(OUT, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: { index: "src/lib/index.ts", node: "src/lib/node.ts", fs: "src/lib/fs.ts" },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  chunkNames: "chunks/[name]-[hash]",
  // uuid's browser build calls the global crypto's getRandomValues (Node ≥ 19 has it): no node:crypto import.
  alias: { uuid: "./node_modules/uuid/dist/esm-browser/index.js" },
});

execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.lib.json"], {
  cwd: ROOT,
  stdio: "inherit",
});
addDeclarationExtensions(TYPES);

/**
 * The package is an ES module package, and TypeScript resolves the imports of its declaration
 * files as Node does (moduleResolution node16/nodenext): a relative import needs its file's
 * extension. The sources import without one, so each relative specifier of the emitted .d.ts files
 * gets the ".js" (or "/index.js") of the file that is there; one that names no file stops the build.
 */
function addDeclarationExtensions(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      addDeclarationExtensions(path);
      continue;
    }
    if (!name.endsWith(".d.ts")) continue;
    const text = readFileSync(path, "utf8");
    const fixed = text.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']*)\2/g, (all, lead, quote, spec) => {
      if (/\.js$/.test(spec)) return all;
      const base = resolve(dirname(path), spec);
      if (existsSync(`${base}.d.ts`)) return `${lead}${quote}${spec}.js${quote}`;
      if (existsSync(join(base, "index.d.ts"))) return `${lead}${quote}${spec}/index.js${quote}`;
      throw new Error(`${path}: the declaration import "${spec}" names no emitted file`);
    });
    if (fixed !== text) writeFileSync(path, fixed);
  }
}
