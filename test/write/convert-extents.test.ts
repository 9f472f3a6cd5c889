/**
 * Whole-disk conversions skip what the image says is not there (NOT_PRESENT, ZERO, UNMAPPED blocks,
 * sectors a differencing image leaves to its parent) without reading it, and write no zeros: every
 * such path is checked here against bytes from elsewhere — qemu-img's own reading of the image
 * (`qemu-img compare`), or the writes that were put into a chain.
 */
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { convertToRaw, convertToVhdx } from "../../src/vhdx/convert";
import { MiB } from "../../src/vhdx/bytes";
import { openImage } from "../../src/vhdx/image";
import { closeChain } from "../../src/vhdx/chain";
import { VhdxWriter } from "../../src/vhdx/write";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openWithParents } from "../../src/node/resolveParent";
import { differencingChild, hasTool, pattern, qemuCheck, qemuToRaw, run, runOk, tempDir } from "./helpers";

const tmp = tempDir("vhdx-convert-extents-");
afterAll(() => tmp.cleanup());

/** Converts the image at `path` (through its chain) to raw and to a compacted VHDX; returns both paths and the raw's bytes written. */
async function convertBoth(path: string, name: string): Promise<{ raw: string; vhdx: string; written: number }> {
  const raw = tmp.path(`${name}-out.raw`);
  const vhdx = tmp.path(`${name}-out.vhdx`);
  const { image, chain } = await openWithParents(path);
  let written = 0;
  try {
    const reads: number[] = [];
    for (const img of chain) {
      const read = img.io.read.bind(img.io);
      img.io.read = (offset, length) => (reads.push(length), read(offset, length));
    }
    for (const [to, kind] of [
      [raw, "raw"],
      [vhdx, "vhdx"],
    ] as const) {
      const out = await NodeFileBackend.open(to, { create: "exclusive" });
      try {
        if (kind === "raw") written = (await convertToRaw(image, out)).bytesWritten;
        else await convertToVhdx(image, out, { type: "dynamic", blockSize: image.blockSize });
      } finally {
        await out.close();
      }
    }
    // Payload is read into the pump's buffers, never through read(): only structures go that way.
    expect(reads.every((n) => n <= MiB)).toBe(true);
  } finally {
    await closeChain(chain);
  }
  expect(qemuCheck(vhdx).status).toBe(0);
  return { raw, vhdx, written };
}

/** Bytes the file takes on disk. */
const allocated = (path: string) => statSync(path).blocks * 512;

/** qemu-img compare's verdict: 0 identical, 1 different. */
function compare(a: string, fa: string, b: string, fb: string): number | null {
  return run("qemu-img", ["compare", "-q", "-f", fa, "-F", fb, a, b]).status;
}

describe.skipIf(!hasTool("qemu-img"))("conversions skip what is not there, as qemu-img reads it", () => {
  it("dynamic (qemu-img made): unwritten blocks, blocks written with zeros, partly written blocks", async () => {
    const img = tmp.path("dyn.vhdx");
    runOk("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", img, "48M"]);
    runOk("qemu-io", [
      "-f",
      "vhdx",
      "-c",
      "write -P 0x5a 0 1M",
      "-c",
      "write -P 0 3M 2M", // allocated, all zeros: a hole in the raw output, no block in the VHDX
      "-c",
      "write -P 0x21 7M 4k",
      "-c",
      "write -P 0x77 20M 1536k", // crosses a block boundary, ends mid-block
      "-c",
      `write -P 0x13 ${48 * MiB - 512} 512`, // the last sector
      img,
    ]);
    const { raw, vhdx, written } = await convertBoth(img, "dyn");
    expect(compare(img, "vhdx", raw, "raw")).toBe(0);
    expect(compare(img, "vhdx", vhdx, "vhdx")).toBe(0);
    expect(statSync(raw).size).toBe(48 * MiB);
    // Only the data granules were written: the zeros are holes.
    expect(written).toBe(MiB + 4096 + 1536 * 1024 + 4096);
    expect(allocated(raw)).toBeLessThanOrEqual(4 * MiB);
    // The compacted copy holds the four blocks with data and no other.
    const c = await openImage(await NodeFileBackend.open(vhdx));
    const present = Array.from({ length: 48 }, (_, b) => c.blockLocation(b).state).filter((s) => s === 6).length;
    await c.close();
    expect(present).toBe(5);
  });

  it("fixed (qemu-img made): every block present, the zeros inside them still left as holes", async () => {
    const img = tmp.path("fixed.vhdx");
    runOk("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=fixed,block_size=1M", img, "16M"]);
    runOk("qemu-io", ["-f", "vhdx", "-c", "write -P 0x42 5M 8k", "-c", `write -P 0x43 ${9 * MiB + 512} 1k`, img]);
    const { raw, vhdx, written } = await convertBoth(img, "fixed");
    expect(compare(img, "vhdx", raw, "raw")).toBe(0);
    expect(compare(img, "vhdx", vhdx, "vhdx")).toBe(0);
    expect(written).toBe(8192 + 4096);
    expect(allocated(raw)).toBeLessThanOrEqual(64 * 1024);
  });

  it("the vhdx command leaves no output behind when a conversion fails part way", () => {
    const img = tmp.path("cut.vhdx");
    runOk("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", img, "16M"]);
    runOk("qemu-io", ["-f", "vhdx", "-c", "write -P 1 0 1M", "-c", "write -P 2 8M 1M", img]);
    // The file cut inside its last payload block: the first block converts, the second fails.
    truncateSync(img, statSync(img).size - 512 * 1024);
    const bin = fileURLToPath(new URL("../../bin/vhdx.cjs", import.meta.url));
    for (const format of ["raw", "vhdx"]) {
      const out = tmp.path(`cut-out.${format}`);
      const r = run(process.execPath, [bin, "convert", img, out, "--format", format]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/BAT entry 8 points past the end of the file/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it("a differencing chain: partly present blocks over the parent's data, zeros over data, a ZERO block", async () => {
    // base (qemu-img made and written) ← mid (2 MiB blocks) ← top (1 MiB blocks), written by the engine.
    const base = tmp.path("base.vhdx");
    runOk("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", base, "24M"]);
    runOk("qemu-io", ["-f", "vhdx", "-c", "write -P 0x0b 0 6M", "-c", "write -P 0x1b 16M 3M", base]);
    qemuToRaw(base, tmp.path("base.raw"));
    const model = new Uint8Array(readFileSync(tmp.path("base.raw")));
    const mid = tmp.path("mid.vhdx");
    const top = tmp.path("top.vhdx");
    await differencingChild(mid, base, { blockSize: 2 * MiB });
    const layers: [string, [number, Uint8Array][]][] = [
      [
        mid,
        [
          [512, pattern(1, 1024)], // two sectors into the parent's data: a partly present block
          [4 * MiB + 4096, new Uint8Array(8192)], // zeros over the parent's data must read as zeros
          [10 * MiB, pattern(2, 3 * MiB)], // over nothing in the parent
        ],
      ],
      [
        top,
        [
          [1 * MiB - 512, pattern(3, 1024)], // across a block boundary, over mid's and base's data
          [16 * MiB + 100 * 512, pattern(4, 512)], // one sector over base's data
          [22 * MiB, pattern(5, MiB)], // a whole block
        ],
      ],
    ];
    for (const [path, writes] of layers) {
      if (path === top) await differencingChild(top, mid, { blockSize: MiB });
      const { image, chain } = await openWithParents(path, { readOnly: false });
      const w = new VhdxWriter(image);
      for (const [at, bytes] of writes) {
        await w.write(at, bytes);
        model.set(bytes, at);
      }
      await w.close();
      await closeChain(chain.slice(1));
    }
    // top's block 5 as ZERO (§2.5.1.1: reads as zeros, whatever the parents hold): set through the BAT.
    {
      const f = await NodeFileBackend.open(top, { readOnly: false });
      const t = await openImage(f, { readOnly: false });
      const entry = t.batRegion.fileOffset + 5 * 8; // chunk ratio ≥ 5: payload entry 5 is BAT entry 5
      const e = new Uint8Array(8);
      e[0] = 2; // PAYLOAD_BLOCK_ZERO, file offset 0
      await f.write(entry, e);
      await f.close();
      model.fill(0, 5 * MiB, 6 * MiB);
    }
    writeFileSync(tmp.path("model.raw"), model);
    const { raw, vhdx } = await convertBoth(top, "chain");
    expect(compare(tmp.path("model.raw"), "raw", raw, "raw")).toBe(0);
    expect(compare(tmp.path("model.raw"), "raw", vhdx, "vhdx")).toBe(0);
    // Holes for every zero run: the data is 6 + 3 + 3 + 1 MiB and a few sectors, less the zeros.
    expect(allocated(raw)).toBeLessThanOrEqual(14 * MiB);
  });
});
