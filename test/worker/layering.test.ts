/** Which layer's code each bundle carries: the page talks to the engine only through the worker. */
import { describe, expect, it } from "vitest";
import { bundledInputs } from "../helpers/bundle";

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
