/** What the layering tests measure: the source files a browser bundle of an entry pulls in. */
import { build } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The project's source files esbuild pulls into a browser bundle of `entry` (type-only imports
 * vanish); packages named in `external` are left out of the bundle.
 */
export async function bundledInputs(entry: string, external: string[] = []): Promise<string[]> {
  const r = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "browser",
    logLevel: "silent",
    external,
  });
  return Object.keys(r.metafile.inputs).filter((p) => p.startsWith("src/"));
}
