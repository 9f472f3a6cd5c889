import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobBackend } from "../../src/worker/storage/blobBackend";
import { ChunkCache } from "../../src/worker/storage/chunkCache";
import { WritableHandleBackend } from "../../src/worker/storage/writableHandleBackend";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { ModelHandle } from "../helpers/modelHandle";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-backends-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function qemuImage(name: string, size: string, writes: string[]): { vhdx: Uint8Array; raw: Uint8Array } {
  const p = join(dir, name);
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", p, size]);
  for (const w of writes) execFileSync("qemu-io", ["-f", "vhdx", "-c", w, p], { stdio: "ignore" });
  execFileSync("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", p, p + ".raw"]);
  return { vhdx: new Uint8Array(readFileSync(p)), raw: new Uint8Array(readFileSync(p + ".raw")) };
}

describe("BlobBackend", () => {
  it("opens a qemu-img image lazily and reads the same virtual bytes qemu-img converts to", async () => {
    const { vhdx, raw } = qemuImage("a.vhdx", "64M", [
      "write -P 0xab 0 1M",
      "write -P 0x5c 5M 300k",
      "write -P 0x11 63M 1M",
    ]);
    const backend = new BlobBackend(new File([vhdx as Uint8Array<ArrayBuffer>], "a.vhdx"), {
      cache: new ChunkCache({ budgetBytes: 1 << 20 }),
    });
    const img = await openImage(backend);
    expect(img.virtualSize).toBe(raw.length);
    // Buffer.equals: toEqual on 64 MiB typed arrays compares element by element, far too slowly.
    expect(Buffer.from(await img.read(0, raw.length)).equals(Buffer.from(raw))).toBe(true);
    expect(raw[5 * 1024 * 1024]).toBe(0x5c);
    expect(backend.stats.bytesRead).toBeLessThan(vhdx.length * 2);
    await expect(backend.write(0, new Uint8Array(1))).rejects.toMatchObject({ code: "READ_ONLY" });
  });

  it("reads only what it is asked: past-the-end bytes are zeros", async () => {
    const data = new Uint8Array(5000).map((_, i) => i & 0xff);
    const b = new BlobBackend(new Blob([data]));
    const got = await b.read(4990, 20);
    expect([...got.subarray(0, 10)]).toEqual([...data.subarray(4990)]);
    expect([...got.subarray(10)]).toEqual(new Array(10).fill(0));
    expect(b.stats.bytesRead).toBe(10);
  });
});

describe("WritableHandleBackend (against a model of the browser's swap-file writable)", () => {
  const open = async (h: ModelHandle, overlayBudget?: number) =>
    WritableHandleBackend.open(h as unknown as FileSystemFileHandle, {
      cache: new ChunkCache({ chunkSize: 256, budgetBytes: 4096 }),
      overlayBudget,
    });

  it("reads see staged writes before close; the file changes only on flush", async () => {
    const start = new Uint8Array(4096).fill(1);
    const h = new ModelHandle("d.vhdx", start);
    const b = await open(h);
    const ref = new MemoryBackend(start);
    await b.read(0, 4096); // fill the cache before writing
    for (const [at, len, v] of [
      [100, 50, 2],
      [4000, 200, 3], // grows the file
      [120, 10, 4],
    ] as const) {
      const d = new Uint8Array(len).fill(v);
      await b.write(at, d);
      await ref.write(at, d);
    }
    expect(await b.read(0, 4400)).toEqual(await ref.read(0, 4400));
    expect(await b.size()).toBe(4200);
    expect(h.bytes).toEqual(start);
    await b.flush();
    expect(h.bytes).toEqual(ref.bytes());
    expect(await b.read(0, 4200)).toEqual(ref.bytes());
    expect(b.commits.length).toBe(1);
    expect(b.commits[0].bytesCopied).toBe(4096);
  });

  it("batch() makes a commit one writable whatever the flushes, and an error aborts it", async () => {
    const h = new ModelHandle("d.vhdx", new Uint8Array(2048));
    const b = await open(h);
    const r = await b.batch(async () => {
      await b.write(0, new Uint8Array([9, 9]));
      await b.flush();
      await b.write(1000, new Uint8Array([8]));
      await b.flush();
      return "ok";
    });
    expect(r).toEqual({ value: "ok", atomic: true });
    expect(h.writablesOpened).toBe(1);
    expect([h.bytes[0], h.bytes[1], h.bytes[1000]]).toEqual([9, 9, 8]);

    const before = h.bytes.slice();
    await expect(
      b.batch(async () => {
        await b.write(10, new Uint8Array([7]));
        await b.truncate(100);
        throw new Error("cancelled midway");
      }),
    ).rejects.toThrow("cancelled midway");
    expect(h.bytes).toEqual(before);
    expect(await b.read(0, 2048)).toEqual(before);
    expect(await b.size()).toBe(2048);
  });

  it("a staged truncate hides the old tail even where the cache held it", async () => {
    const h = new ModelHandle("d.vhdx", new Uint8Array(3000).fill(5));
    const b = await open(h);
    await b.read(0, 3000);
    await b.truncate(1000);
    await b.truncate(2000); // grows back with zeros, not the old bytes
    const got = await b.read(0, 3000);
    expect(got.subarray(0, 1000).every((v) => v === 5)).toBe(true);
    expect(got.subarray(1000).every((v) => v === 0)).toBe(true);
    await b.flush();
    expect(h.bytes.length).toBe(2000);
    expect(h.bytes.subarray(1000).every((v) => v === 0)).toBe(true);
  });

  it("past the overlay budget, staged bytes leave memory but the commit stays one atomic writable", async () => {
    const h = new ModelHandle("d.vhdx", new Uint8Array(1024));
    const b = await open(h, 100);
    const before = h.bytes.slice();
    await expect(
      b.batch(async () => {
        await b.write(0, new Uint8Array(80).fill(1));
        await b.write(200, new Uint8Array(80).fill(2)); // 160 staged bytes > 100: out of memory
        expect(b.stagedBytes).toBe(0);
        throw new Error("cancelled");
      }),
    ).rejects.toThrow("cancelled");
    expect(h.bytes).toEqual(before); // aborted whole
    const r = await b.batch(async () => {
      await b.write(0, new Uint8Array(80).fill(1));
      await b.write(200, new Uint8Array(80).fill(2));
      await b.write(400, new Uint8Array(10).fill(3));
      expect(await b.read(400, 10)).toEqual(new Uint8Array(10).fill(3)); // still in memory
    });
    expect(r.atomic).toBe(true);
    expect(h.writablesOpened).toBe(2); // one per batch
    expect([h.bytes[0], h.bytes[200], h.bytes[400]]).toEqual([1, 2, 3]);
  });

  it("a read of staged bytes no longer in memory swaps the file in early and marks the commit not atomic", async () => {
    const h = new ModelHandle("d.vhdx", new Uint8Array(1024));
    const b = await open(h, 100);
    const r = await b.batch(async () => {
      await b.write(0, new Uint8Array(80).fill(1));
      await b.write(200, new Uint8Array(80).fill(2));
      const got = await b.read(190, 20); // touches spilled bytes
      await b.write(400, new Uint8Array(10).fill(3)); // a second writable
      return [...got];
    });
    expect(r.value).toEqual([...new Array(10).fill(0), ...new Array(10).fill(2)]);
    expect(r.atomic).toBe(false);
    expect(h.writablesOpened).toBe(2);
    expect([h.bytes[0], h.bytes[200], h.bytes[400]]).toEqual([1, 2, 3]);
    expect(b.stagedBytes).toBe(0);
  });

  it("estimates a commit's cost from the file size and the last measured commit", async () => {
    const h = new ModelHandle("d.vhdx", new Uint8Array(10_000));
    const b = await open(h);
    expect(b.commitCost()).toEqual({ bytesCopied: 10_000, writables: 1, estimatedMs: null });
    await b.write(0, new Uint8Array(1));
    await b.flush();
    expect(b.commitCost().bytesCopied).toBe(10_000);
  });
});
