/**
 * The read path against QEMU, which no one here wrote: images made by `qemu-img create -f vhdx` in every
 * shape it offers, filled by qemu-io with seeded random patterns, must read back through the engine
 * byte for byte as `qemu-img convert -O raw` reads them; libvhdi's vhdiinfo must agree with info().
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openImage, type VhdxImage } from "../../src/vhdx/image";
import {
  expectedBytes,
  createQemuImage,
  qemuCheck,
  qemuConvertToRawFile,
  qemuInfo,
  qemuIoWrite,
} from "../helpers/qemu";
import type { SeededWrite } from "../helpers/qemu";
import { Rng } from "../helpers/random";
import { missingTools } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";
import { vhdiinfo } from "../helpers/vhdi";

const MiB = 1024 * 1024;

interface Shape {
  subformat: "fixed" | "dynamic";
  blockSizeMiB: number;
  logSizeMiB: number;
  blockStateZero: boolean;
  sizeBytes: number;
  /** false: the disk is left as created (all unallocated / ZERO blocks). */
  fill: boolean;
}

// Every shape qemu-img offers: both subformats; block sizes 1, 2, 8, 32, 256 MiB; log sizes 1 and 8 MiB;
// block_state_zero on and off; most virtual sizes deliberately not a multiple of the block size
// (a partial last block), all multiples of the 512-byte logical sector as §2.6.2.2 requires.
const SHAPES: Shape[] = [
  {
    subformat: "dynamic",
    blockSizeMiB: 1,
    logSizeMiB: 1,
    blockStateZero: true,
    sizeBytes: 40 * MiB + 7 * 512,
    fill: true,
  },
  {
    subformat: "dynamic",
    blockSizeMiB: 2,
    logSizeMiB: 8,
    blockStateZero: false,
    sizeBytes: 50 * MiB + 512,
    fill: true,
  },
  {
    subformat: "dynamic",
    blockSizeMiB: 8,
    logSizeMiB: 1,
    blockStateZero: false,
    sizeBytes: 100 * MiB + 4096,
    fill: true,
  },
  {
    subformat: "dynamic",
    blockSizeMiB: 32,
    logSizeMiB: 8,
    blockStateZero: true,
    sizeBytes: 150 * MiB + 3 * 512,
    fill: true,
  },
  { subformat: "dynamic", blockSizeMiB: 256, logSizeMiB: 1, blockStateZero: false, sizeBytes: 300 * MiB, fill: true },
  { subformat: "dynamic", blockSizeMiB: 8, logSizeMiB: 1, blockStateZero: true, sizeBytes: 64 * MiB, fill: false },
  { subformat: "fixed", blockSizeMiB: 1, logSizeMiB: 8, blockStateZero: false, sizeBytes: 40 * MiB + 512, fill: true },
  { subformat: "fixed", blockSizeMiB: 2, logSizeMiB: 1, blockStateZero: true, sizeBytes: 48 * MiB + 2048, fill: true },
  { subformat: "fixed", blockSizeMiB: 8, logSizeMiB: 8, blockStateZero: true, sizeBytes: 64 * MiB + 1536, fill: true },
  { subformat: "fixed", blockSizeMiB: 32, logSizeMiB: 1, blockStateZero: false, sizeBytes: 100 * MiB, fill: true },
  {
    subformat: "fixed",
    blockSizeMiB: 256,
    logSizeMiB: 1,
    blockStateZero: true,
    sizeBytes: 260 * MiB + 512,
    fill: true,
  },
  { subformat: "fixed", blockSizeMiB: 2, logSizeMiB: 1, blockStateZero: false, sizeBytes: 20 * MiB, fill: false },
];

function shapeName(s: Shape): string {
  return `${s.subformat} block ${s.blockSizeMiB} MiB, log ${s.logSizeMiB} MiB, block_state_zero ${
    s.blockStateZero ? "on" : "off"
  }, ${s.sizeBytes} bytes${s.fill ? "" : ", never written"}`;
}

/** Seeded writes at unaligned offsets: the first sector, block boundaries, multi-block spans, the very end. */
function planWrites(s: Shape, seed: number): SeededWrite[] {
  const rng = new Rng(seed);
  const size = s.sizeBytes;
  const bs = s.blockSizeMiB * MiB;
  const out: SeededWrite[] = [];
  const add = (offset: number, length: number): void => {
    const len = Math.min(length, size - offset);
    if (offset >= 0 && len > 0) out.push({ offset, length: len, seed: rng.u32() });
  };
  add(0, rng.int(1, 5000));
  for (let i = 0; i < 6; i++) add(rng.int(0, size - 1), rng.int(1, 300_000));
  // Across block boundaries (the first few and the last one inside the disk).
  const boundaries: number[] = [];
  for (let b = bs; b < size && boundaries.length < 3; b += bs) boundaries.push(b);
  const last = Math.floor((size - 1) / bs) * bs;
  if (last > 0 && !boundaries.includes(last)) boundaries.push(last);
  for (const b of boundaries) {
    const before = rng.int(1, 70_000);
    add(b - before, before + rng.int(1, 90_000));
  }
  // One write covering more than a whole block (when blocks are small enough to keep the test quick).
  if (bs <= 8 * MiB) add(rng.int(1, bs - 1), bs + rng.int(1, bs));
  // A write ending exactly at the end of the disk: the last, partial block.
  add(size - rng.int(1, 9000), size);
  // A small write overlapping an earlier one: later writes win, in QEMU and in our model alike.
  const first = out[1];
  if (first) add(first.offset + Math.floor(first.length / 3), rng.int(1, 4000));
  return out;
}

/** SHA-256 of a file, read in chunks (the larger fixed images are half a GiB). */
function fileDigest(path: string): string {
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(8 * MiB);
  try {
    for (let pos = 0; ;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Fails with the virtual offset and the bytes around the first difference, not a 4 MiB diff. */
function expectSameBytes(got: Uint8Array, want: Uint8Array, where: number, what: string): void {
  if (got.length === want.length && Buffer.from(got.buffer, got.byteOffset, got.length).equals(want)) return;
  const i = firstDifference(got, want);
  const ctx = (b: Uint8Array): string => Buffer.from(b.subarray(i, i + 16)).toString("hex");
  expect.fail(
    `${what}: lengths ${got.length}/${want.length}; first difference at virtual offset ${where + i} ` +
      `(0x${(where + i).toString(16)}): engine ${ctx(got)} vs QEMU ${ctx(want)}`,
  );
}

const skip = missingTools("qemu-img", "qemu-io", "vhdiinfo");

describe.skipIf(skip)("reading QEMU-made VHDX images", () => {
  const tmp = useTempDir("vhdx-qemu-read-");

  SHAPES.forEach((shape, index) => {
    describe(shapeName(shape), () => {
      const img = tmp.path(`s${index}.vhdx`);
      const raw = tmp.path(`s${index}.raw`);
      let writes: SeededWrite[] = [];
      let digestBefore = "";
      let checkExit: number | null = null;
      let image: VhdxImage;
      let rawFd = -1;

      const readRaw = (offset: number, length: number): Buffer => {
        const b = Buffer.alloc(length);
        let done = 0;
        while (done < length) {
          const n = readSync(rawFd, b, done, length - done, offset + done);
          if (n === 0) break;
          done += n;
        }
        return b;
      };

      beforeAll(async () => {
        createQemuImage({ path: img, ...shape });
        writes = shape.fill ? planWrites(shape, 1000 + index) : [];
        qemuIoWrite(img, writes);
        checkExit = qemuCheck(img).exitCode;
        qemuConvertToRawFile(img, raw);
        rawFd = openSync(raw, "r");
        digestBefore = fileDigest(img);
        image = await openImage(await NodeFileBackend.open(img, { readOnly: true }));
      });

      afterAll(async () => {
        await image?.close();
        if (rawFd >= 0) closeSync(rawFd);
      });

      it("QEMU holds the seeded patterns (the comparison below is not vacuous)", () => {
        expect(checkExit).toBe(0);
        expect(qemuInfo(img)["virtual-size"]).toBe(shape.sizeBytes);
        // Each write's bytes must be in QEMU's raw reading, unless a later write covered part of it.
        const later = (w: SeededWrite, i: number): boolean =>
          writes.slice(i + 1).some((v) => v.offset < w.offset + w.length && w.offset < v.offset + v.length);
        writes.forEach((w, i) => {
          if (later(w, i)) return; // partly overwritten by a later write; checked through that one
          expectSameBytes(readRaw(w.offset, w.length), expectedBytes(w), w.offset, `QEMU's raw at write ${i}`);
        });
        if (!shape.fill) expect(readRaw(0, Math.min(shape.sizeBytes, 4 * MiB)).every((b) => b === 0)).toBe(true);
      });

      it("every byte of the virtual disk equals qemu-img convert -O raw", async () => {
        // An odd chunk size, so chunks start at every kind of offset relative to blocks and sectors.
        const chunk = 4 * MiB + 4097;
        for (let off = 0; off < shape.sizeBytes; off += chunk) {
          const len = Math.min(chunk, shape.sizeBytes - off);
          expectSameBytes(await image.read(off, len), readRaw(off, len), off, "whole-disk read");
        }
      });

      it("random unaligned reads, and reads at block boundaries and the end, equal QEMU's bytes", async () => {
        const rng = new Rng(7000 + index);
        const size = shape.sizeBytes;
        const bs = shape.blockSizeMiB * MiB;
        const spans: [number, number][] = [
          [0, 1],
          [size - 1, 1],
          [size - 513, 513],
          [Math.max(0, size - bs - 100), Math.min(size, bs + 100)],
        ];
        for (let i = 0; i < 120; i++) {
          const off = rng.int(0, size - 1);
          spans.push([off, rng.int(1, Math.min(size - off, i % 10 === 0 ? 3 * MiB : 70_000))]);
        }
        for (const w of writes.slice(0, 8))
          spans.push([Math.max(0, w.offset - 3), Math.min(size - Math.max(0, w.offset - 3), w.length + 6)]);
        for (let b = bs; b < size; b += bs)
          spans.push([b - rng.int(1, 600), Math.min(size - b + 600, rng.int(601, 5000))]);
        for (const [off, len] of spans) {
          const n = Math.min(len, size - off);
          expectSameBytes(await image.read(off, n), readRaw(off, n), off, `read(${off}, ${n})`);
        }
      });

      it("info() agrees with what the image was made with, with qemu-img info and with libvhdi", () => {
        const info = image.info();
        const vhdi = vhdiinfo(img);
        const q = qemuInfo(img);
        expect(info.diskType).toBe(shape.subformat);
        expect(vhdi.diskType).toBe(shape.subformat);
        expect(info.virtualSize).toBe(shape.sizeBytes);
        expect(vhdi.mediaSize).toBe(info.virtualSize);
        expect(q["virtual-size"]).toBe(info.virtualSize);
        expect(info.blockSize).toBe(shape.blockSizeMiB * MiB);
        expect(q["cluster-size"]).toBe(info.blockSize);
        expect(vhdi.bytesPerSector).toBe(info.logicalSectorSize);
      });

      it("reading never changed the file", () => {
        expect(fileDigest(img)).toBe(digestBefore);
      });
    });
  });
});
