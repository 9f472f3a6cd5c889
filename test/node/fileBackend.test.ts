import { readFileSync, statSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { VhdxError } from "../../src/vhdx/errors";
import { patternBytes } from "../helpers/random";
import { useTempDir } from "../helpers/tmp";

const tmp = useTempDir();
let n = 0;
function fileWith(bytes: Uint8Array): string {
  const p = tmp.path(`f${n++}.bin`);
  writeFileSync(p, bytes);
  return p;
}

describe("NodeFileBackend", () => {
  it("reads exact ranges at any offset, as the file holds them", async () => {
    const data = patternBytes(1, 100_000);
    const f = await NodeFileBackend.open(fileWith(data));
    try {
      expect(f.readOnly).toBe(true);
      expect(await f.size()).toBe(100_000);
      for (const [off, len] of [
        [0, 1],
        [1, 4095],
        [12_345, 54_321],
        [99_999, 1],
        [0, 100_000],
      ]) {
        expect(Buffer.from(await f.read(off, len)).equals(Buffer.from(data.subarray(off, off + len)))).toBe(true);
      }
    } finally {
      await f.close();
    }
  });

  it("readInto fills the caller's buffer as read would, zeros past the end included", async () => {
    const data = patternBytes(3, 10_000);
    const f = await NodeFileBackend.open(fileWith(data));
    try {
      const target = new Uint8Array(4096).fill(0xee);
      await f.readInto(8_000, target);
      expect(Buffer.from(target.subarray(0, 2_000)).equals(Buffer.from(data.subarray(8_000)))).toBe(true);
      expect(target.subarray(2_000).every((x) => x === 0)).toBe(true);
      const again = target.subarray(100, 300);
      await f.readInto(5, again);
      expect(Buffer.from(again).equals(Buffer.from(data.subarray(5, 205)))).toBe(true);
      expect(target[99]).toBe(data[8_099]); // bytes outside the subarray are left alone
    } finally {
      await f.close();
    }
  });

  it("reads zeros past the end of the file, also for reads straddling it", async () => {
    const data = patternBytes(2, 1000);
    const f = await NodeFileBackend.open(fileWith(data));
    try {
      const straddle = await f.read(900, 300);
      expect(Buffer.from(straddle.subarray(0, 100)).equals(Buffer.from(data.subarray(900)))).toBe(true);
      expect(straddle.subarray(100).every((b) => b === 0)).toBe(true);
      const beyond = await f.read(5000, 64);
      expect(beyond.length).toBe(64);
      expect(beyond.every((b) => b === 0)).toBe(true);
      expect((await f.read(10, 0)).length).toBe(0);
    } finally {
      await f.close();
    }
  });

  it("returns a buffer of its own, not a view into a shared pool", async () => {
    const f = await NodeFileBackend.open(fileWith(patternBytes(3, 64)));
    try {
      const b = await f.read(8, 16);
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBe(16);
    } finally {
      await f.close();
    }
  });

  it("refuses writes, flush and truncate when read-only, and leaves the file untouched", async () => {
    const data = patternBytes(4, 4096);
    const p = fileWith(data);
    const f = await NodeFileBackend.open(p, { readOnly: true });
    try {
      await expect(f.write(0, new Uint8Array(8))).rejects.toMatchObject({ code: "READ_ONLY" });
      await expect(f.truncate(10)).rejects.toBeInstanceOf(VhdxError);
      await expect(f.flush()).rejects.toMatchObject({ code: "READ_ONLY" });
    } finally {
      await f.close();
    }
    expect(readFileSync(p).equals(Buffer.from(data))).toBe(true);
  });

  it("writes at offsets, extends the file, flushes, and truncates both ways", async () => {
    const p = fileWith(patternBytes(5, 4096));
    const f = await NodeFileBackend.open(p, { readOnly: false });
    try {
      const a = patternBytes(6, 777);
      await f.write(1000, a);
      const b = patternBytes(7, 300);
      await f.write(10_000, b); // past the end: the hole reads as zeros
      await f.flush();
      expect(await f.size()).toBe(10_300);
      const disk = readFileSync(p);
      expect(disk.subarray(1000, 1777).equals(Buffer.from(a))).toBe(true);
      expect(disk.subarray(4096, 10_000).every((x) => x === 0)).toBe(true);
      expect(disk.subarray(10_000).equals(Buffer.from(b))).toBe(true);

      await f.truncate(2000);
      expect(statSync(p).size).toBe(2000);
      await f.truncate(8192);
      expect(await f.size()).toBe(8192);
      const grown = await f.read(1500, 6692);
      expect(Buffer.from(grown.subarray(0, 277)).equals(Buffer.from(a.subarray(500)))).toBe(true);
      expect(grown.subarray(500).every((x) => x === 0)).toBe(true);
    } finally {
      await f.close();
    }
  });

  it("creates files exclusively unless asked to overwrite", async () => {
    const p = fileWith(patternBytes(8, 10));
    await expect(NodeFileBackend.open(p, { create: "exclusive" })).rejects.toMatchObject({ code: "EEXIST" });
    const f = await NodeFileBackend.open(p, { create: "overwrite" });
    try {
      expect(f.readOnly).toBe(false);
      expect(await f.size()).toBe(0);
    } finally {
      await f.close();
    }
    const q = tmp.path("fresh.bin");
    const g = await NodeFileBackend.open(q, { create: "exclusive" });
    await g.write(0, new Uint8Array([1, 2, 3]));
    await g.close();
    expect([...readFileSync(q)]).toEqual([1, 2, 3]);
  });

  it("rejects ranges that are negative, fractional or past 2^53", async () => {
    const f = await NodeFileBackend.open(fileWith(new Uint8Array(16)));
    try {
      await expect(f.read(-1, 4)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
      await expect(f.read(1.5, 4)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
      await expect(f.read(Number.MAX_SAFE_INTEGER, 4)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    } finally {
      await f.close();
    }
  });

  it("fails cleanly after close and closes twice without error", async () => {
    const f = await NodeFileBackend.open(fileWith(new Uint8Array(16)));
    await f.close();
    await f.close();
    await expect(f.read(0, 4)).rejects.toMatchObject({ code: "IO_ERROR" });
  });

  it("reports a missing file as the system's error", async () => {
    await expect(NodeFileBackend.open(tmp.path("absent.vhdx"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
