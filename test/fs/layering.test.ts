/** The partition tables are decoded in the worker, never on the page: the hex view only words what it is given. */
import { build } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

async function bundledInputs(entry: string): Promise<string[]> {
  const r = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "browser",
    logLevel: "silent",
    external: ["react", "react-dom", "zustand", "@tanstack/*", "uuid"],
  });
  return Object.keys(r.metafile.inputs).filter((p) => p.startsWith("src/"));
}

describe("the file-system layer's place", () => {
  it("the hex view carries no partition or file-system decoding; the worker does", async () => {
    const page = await bundledInputs("src/app/views/HexView.tsx");
    expect(page).toContain("src/app/lib/partitionTable.ts");
    // FsError alone crosses: the worker's protocol rebuilds it on the page, as it does VhdxError.
    expect(page.filter((p) => p.startsWith("src/fs/") && p !== "src/fs/errors.ts")).toEqual([]);
    const worker = await bundledInputs("src/worker/engine.worker.ts");
    expect(worker).toContain("src/fs/partitions/gpt.ts");
    expect(worker).toContain("src/fs/partitions/mbr.ts");
  });
});
