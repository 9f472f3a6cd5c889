import { afterAll, describe, expect, it } from "vitest";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { convertToRaw, convertToVhdx, rawDisk } from "../../src/vhdx/convert";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { RawFileDisk } from "../../src/node/rawDisk";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxError } from "../../src/vhdx/errors";
import { hasTool, pattern, qemuCheck, qemuToRaw, runOk, tempDir } from "./helpers";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** 40 MiB raw disk: data at the start, a lone sector at 17 MiB, a tail run, zeros between. */
function sampleRaw(): Uint8Array {
  const raw = new Uint8Array(40 * MiB);
  raw.set(pattern(1, 3 * MiB + 123), 0);
  raw.set(pattern(2, 512), 17 * MiB);
  raw.set(pattern(3, 2 * MiB), 37 * MiB);
  return raw;
}

async function toFile(path: string, f: (out: NodeFileBackend) => Promise<unknown>): Promise<void> {
  const out = await NodeFileBackend.open(path, { readOnly: false, create: "overwrite" });
  try {
    await f(out);
  } finally {
    await out.close();
  }
}

describe("convert", () => {
  it("raw file → VHDX through the pump's reused buffers: data, long zero runs, data again, all intact", async () => {
    // The pump reads into a fixed set of buffers and lets writes run behind; runs of zero pieces
    // between data pieces are where a buffer could be refilled while its bytes are still being written.
    const raw = new Uint8Array(96 * MiB);
    for (const at of [0, 4 * MiB, 45 * MiB + 777, 46 * MiB, 90 * MiB]) raw.set(pattern(at % 251, 3 * MiB + 5), at);
    const input = tmp.path("runs.raw");
    writeFileSync(input, raw);
    const disk = await RawFileDisk.open(input);
    const out = new MemoryBackend();
    try {
      await convertToVhdx(disk, out, { type: "dynamic", blockSize: MiB });
    } finally {
      await disk.close();
    }
    const img = await openImage(out);
    expect(Buffer.from(await img.read(0, raw.length)).equals(Buffer.from(raw))).toBe(true);
    const back = new MemoryBackend();
    await convertToRaw(img, back);
    expect(Buffer.from(back.bytes()).equals(Buffer.from(raw))).toBe(true);
  });

  it("writes one at a time, in disk order, however slow each write is (reads go on meanwhile)", async () => {
    const raw = sampleRaw();
    for (const to of ["vhdx", "raw"] as const) {
      const out = new MemoryBackend();
      const write = out.write.bind(out);
      let inFlight = 0;
      let most = 0;
      const order: number[] = [];
      out.write = async (offset, data) => {
        inFlight++;
        most = Math.max(most, inFlight);
        order.push(offset);
        await new Promise((r) => setTimeout(r, 1));
        await write(offset, data);
        inFlight--;
      };
      const source = rawDisk(new MemoryBackend(raw), raw.length);
      if (to === "vhdx") await convertToVhdx(source, out, { type: "dynamic", blockSize: 2 * MiB });
      // Pieces overlap while their writes wait: the count of bytes written must still add up
      // (4 KiB granules holding data: 3 MiB + 123 bytes, 512 bytes, 2 MiB).
      else expect((await convertToRaw(source, out)).bytesWritten).toBe(5 * MiB + 8192);
      expect(most).toBe(1);
      const img = to === "vhdx" ? await openImage(out) : null;
      const back = img ? await img.read(0, raw.length) : out.bytes().subarray(0, raw.length);
      expect(Buffer.from(back).equals(Buffer.from(raw))).toBe(true);
      if (to === "raw") expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });

  it("raw → dynamic VHDX leaves zero blocks unallocated and reads back the same", async () => {
    const raw = sampleRaw();
    const out = new MemoryBackend();
    const seen: number[] = [];
    const r = await convertToVhdx(rawDisk(new MemoryBackend(raw), raw.length), out, {
      type: "dynamic",
      blockSize: 2 * MiB,
      onProgress: (p) => seen.push(p.done),
    });
    expect(r.allocatedBlocks).toBe(5); // blocks 0, 1, 8, 18 and 19
    expect(seen[seen.length - 1]).toBe(raw.length);
    const img = await openImage(out);
    expect(Buffer.from(await img.read(0, raw.length)).equals(Buffer.from(raw))).toBe(true);
    expect(img.registry.overlaps()).toEqual([]);
  });

  it("raw → fixed VHDX reads back the same", async () => {
    const raw = sampleRaw();
    const out = new MemoryBackend();
    await convertToVhdx(rawDisk(new MemoryBackend(raw), raw.length), out, {
      type: "fixed",
      blockSize: 4 * MiB,
      logicalSectorSize: 4096,
    });
    const img = await openImage(out);
    expect(img.diskType).toBe("fixed");
    expect(Buffer.from(await img.read(0, raw.length)).equals(Buffer.from(raw))).toBe(true);
  });

  it("an odd-sized raw input is padded to whole sectors", async () => {
    const raw = pattern(9, 1000);
    const out = new MemoryBackend();
    await convertToVhdx(rawDisk(new MemoryBackend(raw), raw.length), out, { type: "dynamic" });
    const img = await openImage(out);
    expect(img.virtualSize).toBe(1024);
    const back = await img.read(0, 1024);
    expect(Buffer.from(back.subarray(0, 1000)).equals(Buffer.from(raw))).toBe(true);
    expect(back.subarray(1000).every((b) => b === 0)).toBe(true);
  });

  it("stops with CANCELLED when the signal aborts", async () => {
    const raw = sampleRaw();
    const ac = new AbortController();
    const err = await convertToVhdx(rawDisk(new MemoryBackend(raw), raw.length), new MemoryBackend(), {
      type: "dynamic",
      signal: ac.signal,
      onProgress: (p) => {
        if (p.done >= 8 * MiB) ac.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(VhdxError);
    expect((err as VhdxError).code).toBe("CANCELLED");
  });

  describe.skipIf(!hasTool("qemu-img"))("against QEMU", () => {
    it("QEMU reads our raw → dynamic output as the input, and it is no larger than qemu-img's", async () => {
      const raw = sampleRaw();
      const rawPath = tmp.path("in.raw");
      writeFileSync(rawPath, raw);
      const ours = tmp.path("ours.vhdx");
      const src = await NodeFileBackend.open(rawPath);
      await toFile(ours, (out) => convertToVhdx(rawDisk(src, raw.length), out, { type: "dynamic" }));
      await src.close();
      expect(qemuCheck(ours).status).toBe(0);
      qemuToRaw(ours, tmp.path("back.raw"));
      expect(readFileSync(tmp.path("back.raw")).equals(Buffer.from(raw))).toBe(true);
      const theirs = tmp.path("theirs.vhdx");
      runOk("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", rawPath, theirs]);
      const oursSize = statSync(ours);
      const theirsSize = statSync(theirs);
      expect(oursSize.size).toBeLessThanOrEqual(theirsSize.size);
      expect(oursSize.blocks).toBeLessThanOrEqual(theirsSize.blocks);
    });

    it("VHDX → raw equals QEMU's reading and leaves holes for zero runs", async () => {
      const img = tmp.path("q.vhdx");
      runOk("qemu-img", ["create", "-q", "-f", "vhdx", img, "64M"]);
      runOk("qemu-io", ["-f", "vhdx", "-c", "write -P 0xab 1M 3M", "-c", "write -P 0x11 40M 4k", img]);
      qemuToRaw(img, tmp.path("q-ref.raw"));
      const file = await NodeFileBackend.open(img);
      const vhdx = await openImage(file);
      const outPath = tmp.path("q-ours.raw");
      let r = { size: 0, bytesWritten: 0 };
      await toFile(outPath, async (out) => (r = await convertToRaw(vhdx, out)));
      await vhdx.close();
      expect(readFileSync(outPath).equals(readFileSync(tmp.path("q-ref.raw")))).toBe(true);
      expect(r.bytesWritten).toBe(3 * MiB + 4096);
      // Sparse: the file occupies about what was written, not 64 MiB.
      expect(statSync(outPath).blocks * 512).toBeLessThan(8 * MiB);
    });

    it("VHDX → VHDX compacts: zero blocks and unreferenced space are dropped", async () => {
      const img = tmp.path("c.vhdx");
      runOk("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", img, "32M"]);
      // Allocated blocks full of zeros, and data in two blocks.
      runOk("qemu-io", [
        "-f",
        "vhdx",
        "-c",
        "write -P 0 0 8M",
        "-c",
        "write -P 0x5a 9M 1M",
        "-c",
        "write -P 0x7 20M 512",
        img,
      ]);
      const file = await NodeFileBackend.open(img);
      const src = await openImage(file);
      const out = tmp.path("c-compact.vhdx");
      let r = { fileSize: 0, allocatedBlocks: 0, totalBlocks: 0 };
      await toFile(
        out,
        async (o) =>
          (r = await convertToVhdx(src, o, {
            type: "dynamic",
            blockSize: src.blockSize,
            virtualDiskId: src.params.virtualDiskId,
          })),
      );
      await src.close();
      expect(r.allocatedBlocks).toBe(2);
      expect(statSync(out).size).toBeLessThan(statSync(img).size);
      expect(qemuCheck(out).status).toBe(0);
      qemuToRaw(img, tmp.path("c1.raw"));
      qemuToRaw(out, tmp.path("c2.raw"));
      expect(readFileSync(tmp.path("c1.raw")).equals(readFileSync(tmp.path("c2.raw")))).toBe(true);
    });
  });
});
