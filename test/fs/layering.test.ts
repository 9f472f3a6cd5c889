/** The partition tables are decoded in the worker, never on the page: the hex view only words what it is given. */
import { describe, expect, it } from "vitest";
import { bundledInputs } from "../helpers/bundle";

/** Packages the page's bundle needs but the question is not about. */
const PACKAGES = ["react", "react-dom", "zustand", "@tanstack/*", "uuid"];

describe("the file-system layer's place", () => {
  it("the hex view carries no partition or file-system decoding; the worker does", async () => {
    const page = await bundledInputs("src/app/views/HexView.tsx", PACKAGES);
    expect(page).toContain("src/app/lib/partitionTable.ts");
    // FsError alone crosses: the worker's protocol rebuilds it on the page, as it does VhdxError.
    expect(page.filter((p) => p.startsWith("src/fs/") && p !== "src/fs/errors.ts")).toEqual([]);
    const worker = await bundledInputs("src/worker/engine.worker.ts");
    expect(worker).toContain("src/fs/partitions/gpt.ts");
    expect(worker).toContain("src/fs/partitions/mbr.ts");
  });
});
