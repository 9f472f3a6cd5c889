/** The streaming SHA-256 against node:crypto: every length around the 64-byte block edges, split at every point. */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../src/vhdx/io";
import { hexDigest, HASH_PIECE, Sha256, sha256OfFile } from "../../src/vhdx/sha256";

const node = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("Sha256", () => {
  it("matches node:crypto for lengths 0–200 fed whole and in two pieces", () => {
    const data = randomBytes(200);
    for (let n = 0; n <= 200; n++) {
      const b = data.subarray(0, n);
      expect(hexDigest(new Sha256().update(b).digest()), `length ${n}`).toBe(node(b));
      const cut = (n * 7) % (n + 1);
      const two = new Sha256().update(b.subarray(0, cut)).update(b.subarray(cut)).digest();
      expect(hexDigest(two), `length ${n} cut at ${cut}`).toBe(node(b));
    }
  });

  it("matches node:crypto for a file larger than one piece, with progress to the end", async () => {
    const data = randomBytes(HASH_PIECE + 12345);
    const seen: number[] = [];
    const got = await sha256OfFile(new MemoryBackend(new Uint8Array(data)), (done) => seen.push(done));
    expect(got).toBe(node(data));
    expect(seen).toEqual([HASH_PIECE, data.length]);
  });

  it("stops when progress throws (a cancel)", async () => {
    const io = new MemoryBackend(new Uint8Array(HASH_PIECE * 2));
    await expect(
      sha256OfFile(io, () => {
        throw new Error("cancelled");
      }),
    ).rejects.toThrow("cancelled");
  });
});
