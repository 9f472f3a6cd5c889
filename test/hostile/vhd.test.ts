/**
 * Hostile VHDs: mutated footers, footer copies, dynamic disk headers, BATs, parent locators and
 * sector bitmaps (from a qemu-made dynamic and fixed disk and a hand-built differencing one).
 * Opening, info, reads and extents either succeed or throw a VhdxError naming the structure; no
 * read is larger than the file, and the walks stay bounded.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { onesComplementChecksum, view } from "../../src/vhd/bytes";
import { vhdInfo } from "../../src/vhd/info";
import { openVhd } from "../../src/vhd/open";
import { VhdxError } from "../../src/vhdx/errors";
import { buildDynamicVhd } from "../helpers/buildVhd";
import { GuardedBackend, PatchedBytes } from "../helpers/guardedBackend";
import { patternBytes } from "../helpers/random";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";
import { qemuIoWriteVpc, qemuVhd } from "../helpers/vhd";
import { mutate, mutationArb, type Mutation, type Seed } from "./properties";

const RUNS = Number(process.env.VHDX_FUZZ_RUNS ?? 300);
const MiB = 1024 * 1024;
const tmp = useTempDir("vhd-hostile-");

/** Checksums made valid again after the mutations, so damage reaches what lies behind them. */
function fixChecksums(b: PatchedBytes): void {
  const fix = (at: number, size: number, sumAt: number) => {
    if (at < 0 || at + size > b.length) return;
    const s = b.get(at, size);
    const v = new Uint8Array(4);
    view(v).setUint32(0, onesComplementChecksum(s, sumAt), false);
    b.set(at + sumAt, v);
  };
  fix(0, 512, 64);
  fix(b.length - 512, 512, 64);
  const ho = b.length >= 24 ? Number(view(b.get(16, 8)).getBigUint64(0, false)) : -1;
  if (ho > 0 && Number.isSafeInteger(ho)) fix(ho, 1024, 36);
}

async function exercise(bytes: PatchedBytes): Promise<void> {
  const io = new GuardedBackend(bytes);
  try {
    const img = await openVhd(io);
    JSON.stringify(await vhdInfo(img));
    const size = img.virtualSize;
    for (const at of [0, Math.floor(size / 2 / 512) * 512, Math.max(0, size - 4096)])
      await img.read(at, Math.min(4096, size - at));
    let n = 0;
    for await (const e of img.extents(0, Math.min(size, 64 * MiB))) {
      expect(e.end).toBeGreaterThan(e.start);
      if (++n > 1_000_000) throw new Error("extents without end");
    }
  } catch (e) {
    if (!(e instanceof VhdxError)) throw e;
    expect(e.structure.length).toBeGreaterThan(0);
  }
  if (io.maxRead > Math.max(bytes.length, MiB) + MiB)
    throw new Error(`a read of ${io.maxRead} bytes from ${bytes.length}`);
}

function seeds(): Seed[] {
  const out: Seed[] = [];
  const bs = 64 * 1024;
  const diff = buildDynamicVhd({
    size: MiB,
    blockSize: bs,
    uniqueId: "aaaaaaaa-0000-0000-0000-000000000001",
    parent: {
      uniqueId: "bbbbbbbb-0000-0000-0000-000000000002",
      timeStamp: 1,
      name: "p.vhd",
      locators: [
        { code: "W2ru", path: ".\\p.vhd" },
        { code: "W2ku", path: "C:\\p.vhd" },
      ],
    },
    blocks: [{ block: 3, present: (s) => s % 2 === 0, data: patternBytes(1, bs) }],
  });
  out.push({
    name: "differencing (hand-built)",
    bytes: diff,
    targets: [
      [0, 512],
      [512, 1024],
      [1536, 512],
      [diff.length - 512, 512],
    ],
  });
  if (!missingTools("qemu-img", "qemu-io")) {
    const d = qemuVhd(tmp.path("d.vhd"), 4 * MiB, "dynamic");
    qemuIoWriteVpc(d, [{ offset: MiB, length: 8192, seed: 2 }]);
    const db = new Uint8Array(readFileSync(d));
    out.push({
      name: "dynamic (qemu-img)",
      bytes: db,
      targets: [
        [0, 512],
        [512, 1024],
        [1536, 512],
        [db.length - 512, 512],
      ],
    });
    const f = qemuVhd(tmp.path("f.vhd"), MiB, "fixed");
    const fb = new Uint8Array(readFileSync(f));
    out.push({ name: "fixed (qemu-img)", bytes: fb, targets: [[fb.length - 512, 512]] });
  }
  return out;
}

describe("hostile VHDs: mutated disks never crash, hang or over-read", () => {
  for (const seed of seeds()) {
    it(`${seed.name}: ${RUNS} mutated cases`, async () => {
      await exercise(PatchedBytes.of(seed.bytes)); // the seed itself
      await fc.assert(
        fc.asyncProperty(
          fc.array(mutationArb(seed), { minLength: 1, maxLength: 6 }),
          fc.boolean(),
          async (ms: Mutation[], fix) => {
            const b = mutate(seed.bytes, ms, false);
            if (fix) fixChecksums(b);
            await exercise(b);
          },
        ),
        { numRuns: RUNS, seed: 0x5eed ^ seed.bytes.length },
      );
    });
  }

  it("a bad footer checksum, a BAT past the end and an absurd size each name their structure", async () => {
    const bs = 64 * 1024;
    const good = buildDynamicVhd({
      size: MiB,
      blockSize: bs,
      uniqueId: "aaaaaaaa-0000-0000-0000-000000000001",
      blocks: [{ block: 0, present: () => true, data: patternBytes(3, bs) }],
    });
    const fail = async (b: Uint8Array) => {
      try {
        await openVhd(new GuardedBackend(b));
      } catch (e) {
        return e as VhdxError;
      }
      throw new Error("opened");
    };
    // Footer at the end damaged, and its copy too: the end's error.
    const bad = good.slice();
    bad[good.length - 512 + 80] ^= 1;
    bad[80] ^= 1;
    const e1 = await fail(bad);
    expect([e1.code, e1.structure, e1.offset]).toEqual(["VHD_FOOTER_CHECKSUM", "footer", good.length - 512 + 64]);
    // BAT offset past the end (checksum fixed so the header is believed).
    const far = PatchedBytes.of(good);
    const off = new Uint8Array(8);
    view(off).setBigUint64(0, BigInt(good.length), false);
    far.set(512 + 16, off);
    fixChecksums(far);
    const e2 = await fail(far.get(0, far.length));
    expect([e2.code, e2.structure, e2.offset]).toEqual(["VHD_BAT_INVALID", "dynamic disk header", 512 + 16]);
    // A current size of 2^52 bytes the BAT cannot cover.
    const huge = PatchedBytes.of(good);
    const sz = new Uint8Array(8);
    view(sz).setBigUint64(0, 1n << 52n, false);
    huge.set(48, sz);
    huge.set(good.length - 512 + 48, sz);
    fixChecksums(huge);
    const e3 = await fail(huge.get(0, huge.length));
    expect([e3.code, e3.structure, e3.offset]).toEqual(["VHD_BAT_INVALID", "dynamic disk header", 512 + 28]);
    // A BAT entry past the end: open warns, the read names the entry.
    const entry = PatchedBytes.of(good);
    entry.set(1536, Uint8Array.of(0x00, 0x10, 0, 0));
    const img = await openVhd(new GuardedBackend(entry));
    expect(img.warnings.map((w) => w.code)).toEqual(["BAT_ENTRY_BEYOND_EOF"]);
    await expect(img.read(0, 512)).rejects.toMatchObject({
      code: "BAT_ENTRY_BEYOND_EOF",
      structure: "BAT",
      offset: 1536,
    });
  });
});
