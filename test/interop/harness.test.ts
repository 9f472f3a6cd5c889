/**
 * The interop helpers themselves, checked against the peers with no engine involved: if these pass,
 * a failing engine comparison is the engine's fault, not the harness's.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { crashShimUnavailable, countWrites, FULL_CRASH, killPoints, runKilledAt, traceWrites } from "../helpers/crash";
import type { TracedWrite } from "../helpers/crash";
import { createQemuImage, expectedBytes, qemuCheck, qemuConvertToRaw, qemuInfo, qemuIoWrite } from "../helpers/qemu";
import type { SeededWrite } from "../helpers/qemu";
import { patternBytes, Rng } from "../helpers/random";
import { missingTools } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";
import { parseVhdiinfo, vhdiinfo } from "../helpers/vhdi";

const MiB = 1024 * 1024;
// Decided before the temp folder exists: under CI=true a missing tool throws here, and nothing is left behind.
const peersMissing = missingTools("qemu-img", "qemu-io", "vhdiinfo");
const shimMissing = crashShimUnavailable();
const tmp = useTempDir("vhdx-harness-");

describe("seeded patterns", () => {
  it("are the same for the same seed and differ between seeds", () => {
    expect(Buffer.from(patternBytes(5, 1001)).equals(Buffer.from(patternBytes(5, 1001)))).toBe(true);
    expect(Buffer.from(patternBytes(5, 64)).equals(Buffer.from(patternBytes(6, 64)))).toBe(false);
    // A prefix of a longer pattern is the shorter pattern: lengths never change the bytes.
    expect(Buffer.from(patternBytes(9, 4096).subarray(0, 100)).equals(Buffer.from(patternBytes(9, 100)))).toBe(true);
  });

  it("look random: every byte value appears, none dominates", () => {
    const b = patternBytes(42, 256 * 1024);
    const counts = new Array<number>(256).fill(0);
    for (const x of b) counts[x]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1250);
  });

  it("give integers inside the asked range", () => {
    const r = new Rng(3);
    for (let i = 0; i < 1000; i++) {
      const v = r.int(10, 20);
      expect(v >= 10 && v <= 20 && Number.isInteger(v)).toBe(true);
    }
  });
});

describe("vhdiinfo output parsing", () => {
  it("reads media size, sector size and disk type from vhdiinfo's text", () => {
    const text = [
      "vhdiinfo 20210425",
      "",
      "Virtual Hard Disk image information:",
      "\tFormat\t\t\t: VHDX (version 2)",
      "\tFormat version\t\t: 1",
      "\tDisk type\t\t: Dynamic",
      "\tMedia size\t\t: 100 MiB (104857600 bytes)",
      "\tBytes per sector\t: 512 bytes",
      "",
    ].join("\n");
    const v = parseVhdiinfo(text);
    expect(v).toMatchObject({ diskType: "dynamic", mediaSize: 104857600, bytesPerSector: 512, formatVersion: "1" });
    expect(() => parseVhdiinfo("nothing useful")).toThrow(/Media size|Disk type/);
  });
});

describe.skipIf(peersMissing)("QEMU and libvhdi helpers", () => {
  it("qemuIoWrite puts the seeded bytes where asked, as qemu-img convert reads them back", () => {
    const img = createQemuImage({
      path: tmp.path("h1.vhdx"),
      sizeBytes: 6 * MiB + 512,
      subformat: "dynamic",
      blockSizeMiB: 1,
    });
    const writes: SeededWrite[] = [
      { offset: 1, length: 1000, seed: 11 },
      { offset: MiB - 77, length: 300, seed: 12 }, // across a block boundary
      { offset: 6 * MiB + 100, length: 412, seed: 13 }, // the partial last block, up to the end
    ];
    qemuIoWrite(img, writes);
    const raw = qemuConvertToRaw(img);
    const model = Buffer.alloc(6 * MiB + 512);
    for (const w of writes) model.set(expectedBytes(w), w.offset);
    expect(raw.length).toBe(model.length);
    expect(raw.equals(model)).toBe(true);
    expect(qemuCheck(img).exitCode).toBe(0);
  });

  it("qemuInfo and vhdiinfo report the sizes and types the images were created with", () => {
    const d = createQemuImage({
      path: tmp.path("h2.vhdx"),
      sizeBytes: 10 * MiB,
      subformat: "dynamic",
      blockSizeMiB: 2,
    });
    const f = createQemuImage({
      path: tmp.path("h3.vhdx"),
      sizeBytes: 4 * MiB + 1024,
      subformat: "fixed",
      blockSizeMiB: 1,
    });
    expect(qemuInfo(d)).toMatchObject({ "virtual-size": 10 * MiB, "cluster-size": 2 * MiB, format: "vhdx" });
    expect(vhdiinfo(d)).toMatchObject({ diskType: "dynamic", mediaSize: 10 * MiB, bytesPerSector: 512 });
    expect(vhdiinfo(f)).toMatchObject({ diskType: "fixed", mediaSize: 4 * MiB + 1024 });
  });

  it("qemuCheck reports a damaged image", () => {
    const img = createQemuImage({ path: tmp.path("h4.vhdx"), sizeBytes: 4 * MiB });
    const bytes = readFileSync(img);
    bytes.fill(0xee, 64 * 1024, 192 * 1024); // both headers
    writeFileSync(img, bytes);
    expect(qemuCheck(img).exitCode).not.toBe(0);
  });
});

describe.skipIf(shimMissing)("kill-at-Nth-write shim", () => {
  // A Node program doing eight positional writes through libuv's thread pool, as the engine does.
  const script = tmp.path("writer.mjs");
  const out = tmp.path("writer.out");
  writeFileSync(
    script,
    `import { open } from "node:fs/promises";
     const h = await open(process.argv[2], "w+");
     for (let i = 0; i < 8; i++) await h.write(Buffer.from([65 + i]), 0, 1, i);
     await h.close();`,
  );

  it("counts a run's positional writes", () => {
    const { count, result } = countWrites(process.execPath, [script, out]);
    expect(result.exitCode).toBe(0);
    expect(count).toBe(8);
    expect(readFileSync(out, "latin1")).toBe("ABCDEFGH");
  });

  it("kills the process right before the nth write", () => {
    const r = runKilledAt(process.execPath, [script, out], 4);
    expect(r.killed).toBe(true);
    expect(readFileSync(out, "latin1")).toBe("ABC");
    const past = runKilledAt(process.execPath, [script, out], 50);
    expect(past.killed).toBe(false);
    expect(readFileSync(out, "latin1")).toBe("ABCDEFGH");
  });

  it("traces each write's file, offset and length, and the flushes between them", () => {
    const flushing = tmp.path("flushing.mjs");
    writeFileSync(
      flushing,
      `import { open } from "node:fs/promises";
       const h = await open(process.argv[2], "w+");
       for (let i = 0; i < 8; i++) {
         await h.write(Buffer.from([65 + i]), 0, 1, i * 512);
         if (i === 3) await h.datasync();
       }
       await h.close();`,
    );
    const { count, writes } = traceWrites(process.execPath, [flushing, out]);
    expect(count).toBe(8);
    expect(writes.map((w) => [w.n, w.offset, w.length, w.afterFlush])).toEqual(
      Array.from({ length: 8 }, (_, i) => [i + 1, i * 512, 1, i === 4]),
    );
    expect(new Set(writes.map((w) => w.fd)).size).toBe(1);
  });
});

describe("killPoints", () => {
  const MiB = 1024 * 1024;
  const w = (n: number, offset: number, length: number, afterFlush = false): TracedWrite => ({
    n,
    fd: 3,
    offset,
    length,
    afterFlush,
  });
  // 20 like data writes, a flush, a header write, two log writes.
  const writes = [
    ...Array.from({ length: 20 }, (_, i) => w(i + 1, 4 * MiB + i * 4096, 4096)),
    w(21, 65536, 80, true),
    w(22, MiB, 4096),
    w(23, MiB + 4096, 4096),
  ];

  // Under VHDX_FULL_CRASH=1 every write is a kill point, whatever the run looks like.
  const expectPoints = (got: number[], all: readonly TracedWrite[], sampled: () => void) =>
    FULL_CRASH ? expect(got).toEqual(all.map((x) => x.n)) : sampled();

  it("keeps both ends, every change of kind and flush, a stretch's inside, and a spread", () => {
    // 1, 23: the ends; 2, 20, 21, 22, 23: each step's first and last; 11: the stretch's middle;
    // 5, 9, 14, 18: the spread.
    const points = killPoints(writes);
    expectPoints(points, writes, () => expect(points).toEqual([1, 2, 5, 9, 11, 14, 18, 20, 21, 22, 23]));
  });

  it("visits a repeated cycle at its first and last occurrence, not each time", () => {
    // Ten allocation cycles alike: header, data, log, BAT, each after a flush.
    const cycle = [
      [65536, 80],
      [8 * MiB, 65536],
      [MiB, 4096],
      [3 * MiB, 4096],
    ];
    const many: TracedWrite[] = [];
    for (let c = 0; c < 10; c++) for (const [at, len] of cycle) many.push(w(many.length + 1, at, len, true));
    const points = killPoints(many);
    expectPoints(points, many, () => {
      for (const n of [1, 2, 3, 4, 5, 37, 38, 39, 40]) expect(points).toContain(n);
      expect(points.length).toBeLessThan(many.length / 2);
    });
  });
});
