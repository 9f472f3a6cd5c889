import { describe, expect, it } from "vitest";
import { build } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The source files esbuild pulls into a bundle of `entry` (type-only imports vanish). */
async function bundledInputs(entry: string): Promise<string[]> {
  const r = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "browser",
    logLevel: "silent",
  });
  return Object.keys(r.metafile.inputs).filter((p) => p.startsWith("src/"));
}

describe("layers", () => {
  it("the UI's engine client carries no VHDX parsing: only the protocol, the error type and API typings", async () => {
    const inputs = await bundledInputs("src/app/engine/client.ts");
    expect(inputs).toContain("src/app/engine/rpc.ts");
    expect(inputs).toContain("src/worker/protocol.ts");
    const engine = inputs.filter((p) => p.startsWith("src/vhdx/"));
    expect(engine).toEqual(["src/vhdx/errors.ts"]);
    expect(inputs.filter((p) => p.startsWith("src/worker/storage/") && !p.endsWith("fsa.ts"))).toEqual([]);
  });

  it("the worker bundle holds the engine and every storage backend", async () => {
    const inputs = await bundledInputs("src/worker/engine.worker.ts");
    for (const f of [
      "src/vhdx/image.ts",
      "src/worker/storage/blobBackend.ts",
      "src/worker/storage/writableHandleBackend.ts",
      "src/worker/storage/opfsSyncBackend.ts",
      "src/worker/host.ts",
    ]) {
      expect(inputs).toContain(f);
    }
    expect(inputs.some((p) => p.startsWith("src/app/"))).toBe(false);
  });
});
