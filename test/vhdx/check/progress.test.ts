import { describe, expect, it } from "vitest";
import { checkImage } from "../../../src/vhdx/check";
import { MiB } from "../../../src/vhdx/bytes";
import { createImage } from "../../../src/vhdx/create";
import { MemoryBackend } from "../../../src/vhdx/io";

describe("checkImage progress", () => {
  it("reports each area in order, from 0 to 1, and a throw from the callback cancels the walk", async () => {
    const io = new MemoryBackend();
    await createImage(io, { type: "dynamic", virtualSize: 64 * MiB, blockSize: MiB });
    const seen: [number, string][] = [];
    const r = await checkImage(io, { onProgress: (f, area) => seen.push([f, area]) });
    expect(r.ok).toBe(true);
    expect(seen.map(([, a]) => a)).toEqual(["headers", "log", "region tables", "metadata", "BAT", "overlaps", "done"]);
    const fractions = seen.map(([f]) => f);
    expect(fractions[0]).toBe(0);
    expect(fractions[fractions.length - 1]).toBe(1);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
    await expect(
      checkImage(io, {
        onProgress: (_f, area) => {
          if (area === "BAT") throw new Error("cancelled");
        },
      }),
    ).rejects.toThrow("cancelled");
  });
});
