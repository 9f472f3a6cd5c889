/**
 * `vhdx write` streams its input: one atomic patch whatever the input's length, with memory
 * bounded by a block. Checked against QEMU's reading of the result, /usr/bin/time's peak RSS of
 * the real command, and a backend that records every write.
 */
import { afterAll, describe, expect, it } from "vitest";
import { closeSync, ftruncateSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { MiB } from "../../src/vhdx/bytes";
import { PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_NOT_PRESENT } from "../../src/vhdx/bat";
import { VhdxWriter } from "../../src/vhdx/write";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { commitStreamPatch } from "../../src/vhdx/streamPatch";
import { bytesSource, piecesSource, type ByteSource } from "../../src/vhdx/source";
import { hasTool, isCI, pattern, qemuCheck, qemuToRaw, run, tempDir } from "./helpers";
import { CountingBackend } from "./recording";

const tmp = tempDir("vhdx-stream-");
afterAll(() => tmp.cleanup());
const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const GiB = 1024 * MiB;

/** A dynamic image of `size` bytes (1 MiB blocks) with pattern(1) written over [0, present). */
async function image(path: string, size: number, present: number): Promise<Uint8Array> {
  const f = await NodeFileBackend.open(path, { create: "overwrite" });
  await createImage(f, { type: "dynamic", virtualSize: size, blockSize: MiB });
  const w = new VhdxWriter(await openImage(f, { readOnly: false }));
  const model = new Uint8Array(size);
  if (present > 0) {
    await w.write(0, pattern(1, present));
    model.set(pattern(1, present));
  }
  await w.close();
  return model;
}

/** The input as pieces of odd sizes, made as they are asked for (the input never exists whole). */
function oddPieces(data: Uint8Array): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const sizes = [1, 4095, 65536, 12345, 777_777];
      for (let at = 0, i = 0; at < data.length; i++) {
        const n = Math.min(sizes[i % sizes.length], data.length - at);
        yield data.slice(at, at + n);
        at += n;
      }
    },
  };
}

function maxRssKiB(stderr: string): number {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  if (!m) throw new Error(`no maximum RSS in: ${stderr}`);
  return Number(m[1]);
}

/** A 1 GiB file of 1 MiB pieces, each pattern(7) stamped with its index, written a piece at a time. */
function bigInput(path: string): void {
  const piece = pattern(7, MiB);
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < 1024; i++) {
      new DataView(piece.buffer).setUint32(0, i, true);
      writeSync(fd, piece);
    }
  } finally {
    closeSync(fd);
  }
}

describe("commitStreamPatch", () => {
  it("writes an unaligned input of unknown size across present and new blocks, as QEMU reads it", async () => {
    const path = tmp.path("s.vhdx");
    const model = await image(path, 12 * MiB, 4 * MiB + 1000);
    const data = pattern(2, 5 * MiB + 3333);
    const offset = 2 * MiB - 4321; // present blocks 1…4, new blocks 5 and 6
    const w = new VhdxWriter(
      await openImage(await NodeFileBackend.open(path, { readOnly: false }), { readOnly: false }),
    );
    const asked: number[] = [];
    const pieces = piecesSource(oddPieces(data));
    const source: ByteSource = { read: (b) => (asked.push(b.length), pieces.read(b)) };
    const r = await commitStreamPatch(w, offset, source);
    await w.close();
    model.set(data, offset);
    expect(r.bytes).toBe(data.length);
    expect(r.cost).toMatchObject({ blocksCopied: 4, blocksAllocated: 2 });
    // The engine pulls at most a block at a time.
    expect(Math.max(...asked)).toBeLessThanOrEqual(MiB);
    const back = await openImage(await NodeFileBackend.open(path));
    expect(Buffer.from(await back.read(0, model.length)).equals(Buffer.from(model))).toBe(true);
    await back.close();
    if (hasTool("qemu-img")) {
      expect(qemuCheck(path).out).toMatch(/No errors were found/);
      qemuToRaw(path, tmp.path("s.raw"));
      expect(readFileSync(tmp.path("s.raw")).equals(Buffer.from(model))).toBe(true);
    }
  });

  it("grows the log, before reading anything, for a known-size input whose switch does not fit it", async () => {
    const mem = new MemoryBackend();
    await createImage(mem, { type: "dynamic", virtualSize: 256 * GiB, blockSize: MiB });
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
    expect(w.image.header.logLength).toBe(MiB);
    // 200 GiB at 1 MiB blocks: about 400 BAT sectors, more than a 1 MiB log's one entry can hold.
    let readsBeforeGrowth = 0;
    const source: ByteSource = {
      size: 200 * GiB,
      read: () => {
        if (w.image.header.logLength < 2 * MiB) readsBeforeGrowth++;
        return Promise.reject(new Error("the input fails"));
      },
    };
    await expect(commitStreamPatch(w, 0, source)).rejects.toThrow("the input fails");
    expect(readsBeforeGrowth).toBe(0);
    expect(w.image.header.logLength).toBeGreaterThanOrEqual(2 * MiB);
    // Nothing of the input landed, and the grown image takes the next write.
    expect(Buffer.from(await w.read(0, MiB)).every((b) => b === 0)).toBe(true);
    const r = await commitStreamPatch(w, GiB, piecesSource(oddPieces(pattern(3, 3 * MiB))));
    expect(r.bytes).toBe(3 * MiB);
    expect(Buffer.from(await w.read(GiB, 3 * MiB)).equals(Buffer.from(pattern(3, 3 * MiB)))).toBe(true);
  });

  it("an empty source changes nothing", async () => {
    const mem = new MemoryBackend();
    await createImage(mem, { type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB });
    const counting = new CountingBackend(mem);
    const w = new VhdxWriter(await openImage(counting, { readOnly: false }));
    const before = counting.changes;
    expect((await commitStreamPatch(w, 100, bytesSource(new Uint8Array(0)))).bytes).toBe(0);
    expect((await commitStreamPatch(w, 100, piecesSource(oddPieces(new Uint8Array(0))))).bytes).toBe(0);
    expect(counting.changes).toBe(before);
  });
});

describe.skipIf(!hasTool("qemu-img"))("vhdx write streams", () => {
  it("stdin running past the end of the disk is a clear error that changes nothing", async () => {
    const path = tmp.path("past.vhdx");
    const model = await image(path, 8 * MiB, 2 * MiB);
    const before = await openImage(await NodeFileBackend.open(path));
    const guid = before.header.dataWriteGuid;
    await before.close();
    const size = statSync(path).size;
    // Starts in a present block, runs through new blocks, and one byte past the end.
    const r = run(process.execPath, [VHDX, "write", path, "--offset", String(MiB + 7)], pattern(4, 7 * MiB));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/runs past the end of the virtual disk/);
    expect(statSync(path).size).toBe(size);
    const after = await openImage(await NodeFileBackend.open(path));
    expect(after.header.dataWriteGuid).toBe(guid);
    expect(after.logNeedsReplay).toBe(false);
    await after.close();
    expect(qemuCheck(path).out).toMatch(/No errors were found/);
    qemuToRaw(path, tmp.path("past.raw"));
    expect(readFileSync(tmp.path("past.raw")).equals(Buffer.from(model))).toBe(true);
  });

  it("a sparse input leaves its all-zero blocks unallocated, and writes zeros over data", async () => {
    // 1 MiB blocks; blocks 0 and 1 hold data. The input: 64 MiB, all holes but 1 MiB of data
    // across blocks 20 and 21, so its zeros cover blocks 0 and 1 (data) and 62 never-written ones.
    const path = tmp.path("sparse.vhdx");
    const model = await image(path, 128 * MiB, 2 * MiB);
    const input = tmp.path("sparse.bin");
    const data = pattern(5, MiB);
    const fd = openSync(input, "w");
    try {
      writeSync(fd, data, 0, data.length, 20 * MiB + MiB / 2);
      ftruncateSync(fd, 64 * MiB);
    } finally {
      closeSync(fd);
    }
    const sizeBefore = statSync(path).size;
    const r = run(process.execPath, [VHDX, "write", path, "--offset", "0", "--input", input]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote 67108864 bytes/);
    model.fill(0, 0, 64 * MiB);
    model.set(data, 20 * MiB + MiB / 2);
    const img = await openImage(await NodeFileBackend.open(path));
    const present = [];
    for (let b = 0; b < 128; b++) {
      const state = img.blockLocation(b).state;
      if (state === PAYLOAD_BLOCK_FULLY_PRESENT) present.push(b);
      else expect(state, `block ${b}`).toBe(PAYLOAD_BLOCK_NOT_PRESENT);
    }
    await img.close();
    expect(present).toEqual([0, 1, 20, 21]);
    // Four blocks of new space at most (0 and 1 copied on write, 20 and 21 new), not 64 MiB.
    expect(statSync(path).size - sizeBefore).toBeLessThanOrEqual(4 * MiB);
    expect(qemuCheck(path).out).toMatch(/No errors were found/);
    qemuToRaw(path, tmp.path("sparse.raw"));
    expect(readFileSync(tmp.path("sparse.raw")).equals(Buffer.from(model))).toBe(true);
  });

  it("zeros only, over never-written space: nothing in the file changes", async () => {
    const path = tmp.path("zeros.vhdx");
    await image(path, 16 * MiB, 0);
    const before = readFileSync(path);
    const r = run(process.execPath, [VHDX, "write", path, "--offset", "4096"], new Uint8Array(3 * MiB));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote 3145728 bytes/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it.skipIf(!existsTime())(
    "1 GiB from a file and from stdin into a 1 GiB disk: peak RSS far below the input, bytes as QEMU reads them",
    () => {
      const input = tmp.path("1g.bin");
      bigInput(input);
      for (const how of ["file", "stdin"] as const) {
        const img = tmp.path(`1g-${how}.vhdx`);
        run(process.execPath, [VHDX, "create", img, "--size", "1G"]); // 32 MiB blocks
        const cmd =
          how === "file"
            ? ["/usr/bin/time", "-v", process.execPath, VHDX, "write", img, "--offset", "0", "--input", input]
            : [
                "sh",
                "-c",
                `exec /usr/bin/time -v "${process.execPath}" "${VHDX}" write "${img}" --offset 0 < "${input}"`,
              ];
        const r = run(cmd[0], cmd.slice(1));
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/wrote 1073741824 bytes/);
        const rss = maxRssKiB(r.stderr) * 1024;
        console.log(`vhdx write of 1 GiB from ${how}: peak RSS ${(rss / MiB).toFixed(0)} MiB`);
        expect(rss).toBeLessThan(256 * MiB);
        const cmp = run("qemu-img", ["compare", "-q", "-f", "raw", "-F", "vhdx", input, img]);
        expect(cmp.status, cmp.stdout + cmp.stderr).toBe(0);
        expect(qemuCheck(img).status).toBe(0);
      }
    },
  );
});

/** GNU time measures the peak RSS; a missing one fails under CI and `npm test` (which installs it). */
function existsTime(): boolean {
  try {
    return statSync("/usr/bin/time").isFile();
  } catch {
    if (isCI) throw new Error("/usr/bin/time is missing (Debian package time: apt-get install -y time)");
    return false;
  }
}
