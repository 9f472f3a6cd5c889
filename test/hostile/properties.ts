/**
 * Properties shared by the hostile-input tests (a few thousand cases inside `npm test`) and by
 * `npm run fuzz` (the same properties, many more cases). Each case mutates a valid seed image
 * and runs every read-only entry point over it.
 */
import fc from "fast-check";
import { MiB, view } from "../../src/vhdx/bytes";
import { checkImage } from "../../src/vhdx/check";
import { crc32cWithZeroField } from "../../src/vhdx/crc32c";
import { VhdxError } from "../../src/vhdx/errors";
import { HEADER_OFFSETS } from "../../src/vhdx/header";
import { openImage } from "../../src/vhdx/image";
import { logReport } from "../../src/vhdx/logReport";
import { REGION_TABLE_OFFSETS } from "../../src/vhdx/regionTable";
import { GuardedBackend, PatchedBytes } from "../helpers/guardedBackend";

export interface Seed {
  name: string;
  bytes: Uint8Array;
  /** File ranges worth aiming at: [start, length]. */
  targets: [number, number][];
  /** File offsets of log entries whose checksum a case may recompute, so damage reaches the replay. */
  logEntries?: number[];
}

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; width: 1 | 2 | 4 | 8; value: bigint }
  | { kind: "truncate"; length: number }
  | { kind: "copy"; from: number; to: number; length: number };

const BOUNDARY: bigint[] = [
  0n,
  1n,
  2n,
  7n,
  0x7fn,
  0x80n,
  0xffn,
  0xffffn,
  0x1_0000n,
  0x10_0000n,
  0x7fff_ffffn,
  0x8000_0000n,
  0xffff_ffffn,
  1n << 32n,
  (1n << 44n) - 1n,
  1n << 53n,
  (1n << 63n) - 1n,
  (1n << 64n) - 1n,
];

/** Offsets inside the seed's structures most of the time, anywhere in the file otherwise. */
function offsetIn(seed: Seed): fc.Arbitrary<number> {
  const anywhere = fc.integer({ min: 0, max: Math.max(0, seed.bytes.length - 1) });
  const aimed = seed.targets.map(([s, l]) => fc.integer({ min: s, max: s + l - 1 }));
  return fc.oneof({ arbitrary: fc.oneof(...aimed), weight: 4 }, { arbitrary: anywhere, weight: 1 });
}

export function mutationArb(seed: Seed): fc.Arbitrary<Mutation> {
  const at = offsetIn(seed);
  const n = seed.bytes.length;
  const structureStarts = [
    HEADER_OFFSETS[0],
    HEADER_OFFSETS[1],
    REGION_TABLE_OFFSETS[0],
    REGION_TABLE_OFFSETS[1],
    ...seed.targets.map(([s]) => s),
  ];
  return fc.oneof(
    {
      arbitrary: fc.record({ kind: fc.constant("flip" as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
      weight: 4,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant("set" as const),
        at,
        width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
        value: fc.oneof(fc.constantFrom(...BOUNDARY), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
      }),
      weight: 5,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant("truncate" as const),
        length: fc.oneof(fc.integer({ min: 0, max: n }), fc.constantFrom(...structureStarts)),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant("copy" as const),
        from: fc.oneof(fc.constantFrom(...structureStarts), at),
        to: fc.oneof(fc.constantFrom(...structureStarts), at),
        length: fc.constantFrom(8, 32, 4096, 64 * 1024),
      }),
      weight: 2,
    },
  );
}

/** Applies mutations to a copy of `bytes`; with `fixChecksums`, headers and region tables get valid CRCs again, so damage reaches past them. */
export function mutate(
  bytes: Uint8Array,
  mutations: readonly Mutation[],
  fixChecksums: boolean,
  logEntries: readonly number[] = [],
): PatchedBytes {
  const b = PatchedBytes.of(bytes);
  for (const m of mutations) {
    if (m.kind === "flip") {
      if (m.at < b.length) b.set(m.at, Uint8Array.of(b.get(m.at, 1)[0] ^ (1 << m.bit)));
    } else if (m.kind === "set") {
      const v = new Uint8Array(8);
      new DataView(v.buffer).setBigUint64(0, m.value & ((1n << 64n) - 1n), true);
      b.set(m.at, v.subarray(0, m.width));
    } else if (m.kind === "truncate") {
      b.truncate(m.length);
    } else {
      b.set(m.to, b.get(m.from, Math.max(0, Math.min(m.length, b.length - m.from))));
    }
  }
  if (fixChecksums) {
    const fix = (at: number, size: number) => {
      if (at + size > b.length) return;
      const s = b.get(at, size);
      const crc = new Uint8Array(4);
      view(crc).setUint32(0, crc32cWithZeroField(s, 4), true);
      b.set(at + 4, crc);
    };
    for (const at of HEADER_OFFSETS) fix(at, 4096);
    for (const at of REGION_TABLE_OFFSETS) fix(at, 65536);
    // A log entry's checksum covers EntryLength bytes (§2.3.1.1); bounded so a claim costs nothing.
    for (const at of logEntries) {
      const len = view(b.get(at + 8, 4)).getUint32(0, true);
      if (len >= 64 && len <= 4 * MiB) fix(at, len);
    }
  }
  return b;
}

/** What a case must satisfy; returns normally or throws the violation. */
export async function exercise(input: Uint8Array | PatchedBytes): Promise<void> {
  const bytes = input instanceof PatchedBytes ? input : PatchedBytes.of(input);
  const io = new GuardedBackend(bytes);
  // The largest honest single read: the 1 MiB header section, or a whole (≤ 256 MiB) block would be
  // needed only by reads we do not make here; anything beyond the file's own size means a claim was trusted.
  const readLimit = Math.max(bytes.length, MiB) + MiB;
  try {
    const img = await openImage(io);
    JSON.stringify(img.info());
    JSON.stringify(img.map());
    JSON.stringify(await logReport(img, { previewBytes: 16 }), (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    const size = img.virtualSize;
    const spots = [0, Math.floor(size / 2), Math.max(0, size - 4096)];
    for (const at of spots) await img.read(at, Math.min(4096, size - at));
    // A read that crosses a block boundary takes the multi-block path.
    if (size > img.blockSize) await img.read(img.blockSize - 4096, Math.min(8192, size - img.blockSize + 4096));
  } catch (e) {
    if (!(e instanceof VhdxError)) throw e;
    if (!e.structure) throw new Error(`VhdxError ${e.code} names no structure: ${e.message}`);
  }
  const report = await checkImage(io);
  for (const f of report.findings) {
    if (!f.structure || !Number.isFinite(f.offset) || !Number.isFinite(f.length))
      throw new Error(`malformed finding ${JSON.stringify(f)}`);
  }
  if (report.ok && report.findings.some((f) => f.severity === "error")) throw new Error("report ok with errors");
  if (io.maxRead > readLimit) throw new Error(`a single read of ${io.maxRead} bytes from a ${bytes.length}-byte file`);
}

/** The property over one seed. */
export function hostileProperty(seed: Seed, maxMutations = 6): fc.IAsyncPropertyWithHooks<[Mutation[], boolean]> {
  return fc.asyncProperty(
    fc.array(mutationArb(seed), { minLength: 1, maxLength: maxMutations }),
    fc.boolean(),
    async (mutations, fix) => {
      await exercise(mutate(seed.bytes, mutations, fix, seed.logEntries));
    },
  );
}
