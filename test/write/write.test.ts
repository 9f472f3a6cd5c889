import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createImage, CreateOptions } from "../../src/vhdx/create";
import { openImage, VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { MiB } from "../../src/vhdx/bytes";
import { PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_PARTIALLY_PRESENT, payloadEntryIndex } from "../../src/vhdx/bat";
import { VhdxWriter } from "../../src/vhdx/write";
import { isZeroGuid } from "../../src/vhdx/guid";
import { memoryChild } from "../helpers/child";
import { hasTool, pattern, qemuCheck, qemuToRaw, runOk, tempDir } from "./helpers";
import { commitPatch } from "../../src/vhdx/patch";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Random unaligned writes, replayed on a plain byte array as the model. */
function workload(seed: number, size: number, count: number, maxLen: number): { offset: number; data: Uint8Array }[] {
  const r = pattern(seed, count * 8);
  const dv = new DataView(r.buffer);
  const out: { offset: number; data: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + (dv.getUint32(i * 8) % maxLen);
    const offset = dv.getUint32(i * 8 + 4) % (size - len);
    out.push({ offset, data: pattern(seed * 1000 + i, len) });
  }
  return out;
}

async function fresh(o: CreateOptions): Promise<MemoryBackend> {
  const mem = new MemoryBackend();
  await createImage(mem, o);
  return mem;
}

async function reopen(mem: MemoryBackend): Promise<VhdxImage> {
  return openImage(new MemoryBackend(mem.bytes()));
}

describe("writes", () => {
  for (const type of ["dynamic", "fixed"] as const) {
    it(`${type}: unaligned writes read back, before and after reopening`, async () => {
      const size = 24 * MiB;
      const mem = await fresh({ type, virtualSize: size, blockSize: MiB });
      const img = await openImage(mem, { readOnly: false });
      const w = new VhdxWriter(img);
      const model = new Uint8Array(size);
      for (const { offset, data } of workload(type === "fixed" ? 7 : 3, size, 40, 300_000)) {
        await w.write(offset, data);
        model.set(data, offset);
      }
      // A write spanning several blocks.
      const big = pattern(99, 3 * MiB + 777);
      await w.write(5 * MiB - 100, big);
      model.set(big, 5 * MiB - 100);
      expect(Buffer.from(await w.read(0, size)).equals(Buffer.from(model))).toBe(true);
      await w.finish();
      const again = await reopen(mem);
      expect(isZeroGuid(again.header.logGuid)).toBe(true);
      expect(again.registry.overlaps()).toEqual([]);
      expect(Buffer.from(await again.read(0, size)).equals(Buffer.from(model))).toBe(true);
    });
  }

  it("renews FileWriteGuid and DataWriteGuid once per session, before the first change", async () => {
    const mem = await fresh({ type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB });
    const before = (await reopen(mem)).header;
    const img = await openImage(mem, { readOnly: false });
    const w = new VhdxWriter(img);
    await w.write(4096, pattern(1, 10));
    const mid = w.updater.current;
    expect(mid.fileWriteGuid).not.toBe(before.fileWriteGuid);
    expect(mid.dataWriteGuid).not.toBe(before.dataWriteGuid);
    await w.write(MiB, pattern(2, 10));
    expect(w.updater.current.dataWriteGuid).toBe(mid.dataWriteGuid);
    expect(w.updater.current.fileWriteGuid).toBe(mid.fileWriteGuid);
    await w.finish();
    const after = (await reopen(mem)).header;
    expect(after.dataWriteGuid).toBe(mid.dataWriteGuid);
    expect(after.sequenceNumber).toBeGreaterThan(before.sequenceNumber);
  });

  it("an allocating write costs one data flush and one log entry (write, flush, apply, flush)", async () => {
    const mem = await fresh({ type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB });
    const img = await openImage(mem, { readOnly: false });
    const w = new VhdxWriter(img);
    await w.write(0, pattern(1, 512)); // session start: header updates
    const f0 = mem.flushes;
    await w.write(3 * MiB, pattern(2, 512));
    // data flush (which also makes the grown size durable), log entry flush, apply flush
    expect(mem.flushes - f0).toBe(3);
    const e = img.bat;
    expect(e.state(payloadEntryIndex(img.geometry, 3))).toBe(PAYLOAD_BLOCK_FULLY_PRESENT);
  });

  it("allocation reuses a free 1 MiB-aligned gap before growing the file", async () => {
    const mem = await fresh({ type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB });
    // A hole inside the file that nothing uses.
    const layoutEnd = await mem.size();
    await mem.truncate(layoutEnd + 2 * MiB);
    const img = await openImage(mem, { readOnly: false });
    const w = new VhdxWriter(img);
    await w.write(2 * MiB + 5, pattern(3, 100));
    const loc = img.blockLocation(2);
    expect(loc.fileOffset).toBe(layoutEnd);
    expect(await mem.size()).toBe(layoutEnd + 2 * MiB);
    await w.finish();
    const again = await reopen(mem);
    expect(Buffer.from(await again.read(2 * MiB + 5, 100)).equals(Buffer.from(pattern(3, 100)))).toBe(true);
    expect((await again.read(2 * MiB, 5)).every((b) => b === 0)).toBe(true);
  });

  it("reused space is zero-filled apart from the written bytes", async () => {
    const mem = await fresh({ type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB });
    const end = await mem.size();
    await mem.write(end, new Uint8Array(2 * MiB).fill(0xee)); // stale bytes in unused space
    const img = await openImage(mem, { readOnly: false });
    const w = new VhdxWriter(img);
    await w.write(MiB + 1000, pattern(4, 10));
    expect(img.blockLocation(1).fileOffset).toBe(end);
    const block = await w.read(MiB, MiB);
    const want = new Uint8Array(MiB);
    want.set(pattern(4, 10), 1000);
    expect(Buffer.from(block).equals(Buffer.from(want))).toBe(true);
  });

  it("differencing: written sectors set bits; the rest reads from the parent", async () => {
    const size = 16 * MiB;
    const pmem = await fresh({ type: "dynamic", virtualSize: size, blockSize: 2 * MiB });
    const parentModel = new Uint8Array(size);
    {
      const p = await openImage(pmem, { readOnly: false });
      const pw = new VhdxWriter(p);
      for (const { offset, data } of workload(11, size, 10, 2 * MiB)) {
        await pw.write(offset, data);
        parentModel.set(data, offset);
      }
      await pw.finish();
    }
    const parent = await reopen(pmem);
    const { mem: cmem, child } = await memoryChild(parent, { blockSize: 2 * MiB });
    const w = new VhdxWriter(child);
    const model = parentModel.slice();
    for (const { offset, data } of workload(12, size, 30, 100_000)) {
      await w.write(offset, data);
      model.set(data, offset);
    }
    expect(Buffer.from(await w.read(0, size)).equals(Buffer.from(model))).toBe(true);
    await w.finish();
    const again = await reopen(cmem);
    again.parent = parent;
    expect(Buffer.from(await again.read(0, size)).equals(Buffer.from(model))).toBe(true);
    const states = new Set<number>();
    for (let b = 0; b < again.geometry.dataBlocksCount; b++) states.add(again.blockLocation(b).state);
    expect(states.has(PAYLOAD_BLOCK_PARTIALLY_PRESENT)).toBe(true);
    // The parent file was not touched by the child's writes.
    expect(Buffer.from(await parent.read(0, size)).equals(Buffer.from(parentModel))).toBe(true);
  });

  describe.skipIf(!hasTool("qemu-img"))("QEMU reads what we wrote", () => {
    for (const type of ["dynamic", "fixed"] as const) {
      it(`${type}: qemu-img check is clean and its raw reading equals the model`, async () => {
        const size = 20 * MiB;
        const path = tmp.path(`w-${type}.vhdx`);
        const f = await NodeFileBackend.open(path, { readOnly: false, create: "overwrite" });
        await createImage(f, { type, virtualSize: size, blockSize: 2 * MiB });
        const img = await openImage(f, { readOnly: false });
        const w = new VhdxWriter(img);
        const model = new Uint8Array(size);
        for (const { offset, data } of workload(21, size, 25, 400_000)) {
          await w.write(offset, data);
          model.set(data, offset);
        }
        await w.close();
        const c = qemuCheck(path);
        expect(c.out).toMatch(/No errors were found/);
        qemuToRaw(path, tmp.path(`w-${type}.raw`));
        expect(readFileSync(tmp.path(`w-${type}.raw`)).equals(Buffer.from(model))).toBe(true);
      });
    }
  });
});

describe.skipIf(!hasTool("qemu-img") || !hasTool("qemu-io"))("images QEMU made", () => {
  for (const blockStateZero of [false, true]) {
    it(`writes and patches an image made and written by QEMU (block_state_zero=${blockStateZero})`, async () => {
      const path = tmp.path(`q-${blockStateZero}.vhdx`);
      const size = 48 * MiB;
      runOk("qemu-img", [
        "create",
        "-q",
        "-f",
        "vhdx",
        "-o",
        `subformat=dynamic,block_size=1M,block_state_zero=${blockStateZero ? "on" : "off"}`,
        path,
        String(size),
      ]);
      runOk("qemu-io", [
        "-f",
        "vhdx",
        "-c",
        "write -P 0x3c 0 3M",
        "-c",
        "write -P 0x5d 20M 1M",
        "-c",
        "write -z 30M 2M",
        path,
      ]);
      qemuToRaw(path, path + ".before");
      const model = new Uint8Array(readFileSync(path + ".before"));
      const f = await NodeFileBackend.open(path, { readOnly: false });
      const w = new VhdxWriter(await openImage(f, { readOnly: false }));
      for (const { offset, data } of workload(31, size, 20, 200_000)) {
        await w.write(offset, data);
        model.set(data, offset);
      }
      const edits = [
        { offset: 10, data: pattern(40, 3000) },
        { offset: 20 * MiB + 5, data: pattern(41, 10) },
        { offset: 31 * MiB, data: pattern(42, 700) },
      ];
      await commitPatch(w, edits);
      for (const e of edits) model.set(e.data, e.offset);
      expect(w.image.registry.overlaps()).toEqual([]);
      await w.close();
      expect(qemuCheck(path).out).toMatch(/No errors were found/);
      qemuToRaw(path, path + ".after");
      expect(readFileSync(path + ".after").equals(Buffer.from(model))).toBe(true);
    });
  }
});
