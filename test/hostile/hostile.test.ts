import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exercise, hostileProperty, mutate } from "./properties";
import { builtSeeds, qemuSeed } from "./seeds";
import { checkImage } from "../../src/vhdx/check";
import { GuardedBackend } from "../helpers/guardedBackend";

const RUNS = Number(process.env.VHDX_FUZZ_RUNS ?? 400);
const seeds = [...builtSeeds()];
const q = qemuSeed();
if (q) seeds.push(q);

describe("hostile input: mutated images never crash, hang, write or over-allocate", () => {
  it("every seed image is clean to begin with", async () => {
    for (const s of seeds) {
      const r = await checkImage(new GuardedBackend(s.bytes));
      // The pending-log seed is valid but must be replayed: that is its one finding.
      const expected = s.name === "pending-log" ? ["LOG_NEEDS_REPLAY"] : [];
      expect(
        r.findings.filter((f) => f.severity !== "info").map((f) => f.code),
        s.name,
      ).toEqual(expected);
      await exercise(s.bytes);
    }
  });

  for (const seed of seeds) {
    it(`${seed.name} seed: ${RUNS} mutated cases`, async () => {
      await fc.assert(hostileProperty(seed), {
        numRuns: RUNS,
        seed: Number(process.env.VHDX_FUZZ_SEED ?? 0x5eed) ^ seed.bytes.length,
      });
    });
  }

  it("mutate() keeps the seed untouched", () => {
    const s = seeds[0];
    const before = s.bytes.slice(0, 4096);
    const m = mutate(
      s.bytes,
      [
        { kind: "flip", at: 0, bit: 0 },
        { kind: "set", at: 70000, width: 4, value: 0x01020304n },
      ],
      false,
    );
    expect(s.bytes.subarray(0, 4096)).toEqual(before);
    expect(m.get(0, 1)[0]).toBe(before[0] ^ 1);
    expect([...m.get(70000, 4)]).toEqual([4, 3, 2, 1]);
    expect(m.get(70004, 4)).toEqual(s.bytes.subarray(70004, 70008));
  });
});
