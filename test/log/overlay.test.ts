import fc from "fast-check";
import { expectBytes } from "./builder";
import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxError } from "../../src/vhdx/errors";
import { MemoryBackend } from "../../src/vhdx/io";
import { OverlayBackend } from "../../src/vhdx/log/overlay";

function baseBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

type Op =
  | { kind: "write"; offset: number; length: number; byte: number }
  | { kind: "truncate"; size: number }
  | { kind: "zero"; offset: number; length: number }
  | { kind: "read"; offset: number; length: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    offset: fc.nat(40000),
    length: fc.integer({ min: 1, max: 9000 }),
    byte: fc.oneof(fc.constant(0), fc.nat(255)),
  }),
  fc.record({ kind: fc.constant("truncate" as const), size: fc.nat(50000) }),
  fc.record({ kind: fc.constant("zero" as const), offset: fc.nat(40000), length: fc.integer({ min: 1, max: 20000 }) }),
  fc.record({ kind: fc.constant("read" as const), offset: fc.nat(50000), length: fc.nat(12000) }),
);

describe("OverlayBackend", () => {
  it("behaves like a writable copy of the base, and never writes the base", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        const initial = baseBytes(30000);
        const base = new MemoryBackend(initial, { readOnly: true });
        const model = new MemoryBackend(initial);
        const overlay = await OverlayBackend.over(base);
        for (const o of ops) {
          if (o.kind === "write") {
            const data = new Uint8Array(o.length).fill(o.byte);
            await model.write(o.offset, data);
            await overlay.write(o.offset, data);
          } else if (o.kind === "zero") {
            await model.write(o.offset, new Uint8Array(o.length));
            await overlay.writeZeros(o.offset, o.length);
          } else if (o.kind === "truncate") {
            await model.truncate(o.size);
            await overlay.truncate(o.size);
          } else {
            expectBytes(await overlay.read(o.offset, o.length), await model.read(o.offset, o.length));
          }
          expect(await overlay.size()).toBe(await model.size());
        }
        const n = await model.size();
        expectBytes(await overlay.read(0, n + 100), await model.read(0, n + 100));
        expectBytes(base.bytes(), initial);
      }),
      { numRuns: 300 },
    );
  });

  it("reports the changed sector runs and refuses writes once frozen", async () => {
    const base = new MemoryBackend(baseBytes(64 * 1024));
    const o = await OverlayBackend.over(base);
    expect(o.pristine).toBe(true);
    await o.write(4096, new Uint8Array(8192).fill(1));
    await o.write(20000, new Uint8Array(10).fill(2));
    expect(o.changedRanges()).toEqual([
      { start: 4096, length: 8192 },
      { start: 16384, length: 4096 },
    ]);
    o.freeze();
    expect(o.readOnly).toBe(true);
    await expect(o.write(0, new Uint8Array(1))).rejects.toBeInstanceOf(VhdxError);
    await expect(o.truncate(0)).rejects.toBeInstanceOf(VhdxError);
    expect(base.flushes).toBe(0);
  });

  it("keeps a zero range as large as a terabyte as one run, not sectors (a zero descriptor claims it)", async () => {
    const base = new MemoryBackend(baseBytes(MiB), { readOnly: true });
    const overlay = await OverlayBackend.over(base);
    await overlay.write(8192, new Uint8Array(4096).fill(0x5a));
    await overlay.writeZeros(4096, 1024 * 1024 * MiB);
    // A later write inside the run wins over it; the bytes around stay zero.
    await overlay.write(3 * MiB + 100, new Uint8Array([1, 2, 3]));
    expect(await overlay.size()).toBe(4096 + 1024 * 1024 * MiB);
    expectBytes(await overlay.read(0, 4096), baseBytes(4096));
    expectBytes(await overlay.read(8192, 4096), new Uint8Array(4096));
    const around = await overlay.read(3 * MiB + 96, 12);
    expectBytes(around, Uint8Array.from([0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0]));
    expectBytes(await overlay.read(512 * 1024 * MiB, 4096), new Uint8Array(4096));
    expect(overlay.changedRanges()).toEqual([{ start: 4096, length: 1024 * 1024 * MiB }]);
    expectBytes(base.bytes(), baseBytes(MiB));
  });
});
