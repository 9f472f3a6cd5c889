/**
 * The long run behind `npm run fuzz`: the hostile-input properties of hostile.test.ts over every
 * seed, in batches with fresh seeds, printing the cases run and each failure found (shrunk).
 * Usage (through scripts/fuzz.mjs): fuzz [cases per seed, default 20000] [base seed] [seed image name]
 */
import fc from "fast-check";
import { hostileProperty } from "./properties";
import { builtSeeds, qemuSeed } from "./seeds";

const perSeed = Number(process.argv[2] ?? 20000);
const baseSeed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const BATCH = 1000;

const only = process.argv[4];
let seeds = builtSeeds();
const q = qemuSeed();
if (q) seeds.push(q);
else console.log("qemu-img not found: fuzzing the in-memory seeds only");
if (only) seeds = seeds.filter((x) => x.name === only);

let cases = 0;
let failures = 0;
const started = Date.now();
for (const seed of seeds) {
  for (let done = 0, batch = 0; done < perSeed; done += BATCH, batch++) {
    const numRuns = Math.min(BATCH, perSeed - done);
    const runSeed = (baseSeed + batch * 7919 + seed.bytes.length) | 0;
    // A per-case time limit catches hangs; a failing case is shrunk before it is printed.
    // Every other batch piles up more damage per case.
    const r = await fc.check(hostileProperty(seed, batch % 2 === 0 ? 6 : 24), {
      numRuns,
      seed: runSeed,
      timeout: 10_000,
    });
    cases += r.numRuns;
    if (r.failed) {
      failures++;
      console.log(`FAILURE on seed image "${seed.name}" (fast-check seed ${runSeed}, path ${r.counterexamplePath}):`);
      console.log(`  counterexample: ${fc.stringify(r.counterexample)}`);
      console.log(
        `  error: ${r.errorInstance instanceof Error ? (r.errorInstance.stack ?? r.errorInstance.message) : String(r.errorInstance)}`,
      );
    }
  }
  console.log(
    `${seed.name}: ${cases} cases so far, ${failures} failures, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}
console.log(
  `fuzz: ${cases} cases run over ${seeds.length} seed images, ${failures} failures found (base seed ${baseSeed})`,
);
process.exitCode = failures > 0 ? 1 : 0;
