/**
 * "Write file…" in the worker: a local file (a Blob, streamed, never read whole) written at a
 * virtual disk offset as one atomic patch through the session's commit path, on a model of
 * Chromium's writable file handle. The result is checked against a model (the base bytes with the
 * file laid over them), a fresh open of the saved bytes, and qemu-img's raw conversion; refusals
 * (past the end, LOG_FULL, read-only) and a cancel half-way leave the file byte for byte as it was.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createImage } from "../../src/vhdx/create";
import { VhdxError } from "../../src/vhdx/errors";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { VhdxWriter } from "../../src/vhdx/write";
import { methods } from "../../src/worker/methods";
import type { CallContext } from "../../src/worker/protocol";
import { ModelHandle } from "../helpers/modelHandle";
import { patternBytes } from "../helpers/random";
import { runOk } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { differencingChild, dynamicImageWith } from "../write/helpers";
import { requireTool } from "../helpers/tools";

const MiB = 1024 * 1024;
/** patternBytes as a Blob part. */
const bytes = (seed: number, n: number) => new Uint8Array(patternBytes(seed, n));
const SIZE = 16 * MiB;
const tmp = useTempDir("vhdx-writefile-");

const ctx = (signal = new AbortController().signal, progress: CallContext["progress"] = () => undefined) => ({
  signal,
  progress,
});

/** A File the worker may only stream: reading it whole (arrayBuffer, text, bytes) fails the test. */
class StreamOnlyFile extends File {
  streams = 0;
  override stream(): ReturnType<File["stream"]> {
    this.streams++;
    return super.stream();
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    throw new Error("the whole file was read with arrayBuffer()");
  }
  override text(): Promise<string> {
    throw new Error("the whole file was read with text()");
  }
  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    throw new Error("the whole file was read with bytes()");
  }
}

/** Block 1 and block 4 hold data (FULLY_PRESENT); the rest of the 1 MiB blocks are NOT_PRESENT. */
let base: Uint8Array = new Uint8Array(0);
const model = new Uint8Array(SIZE);

beforeAll(async () => {
  vi.stubGlobal("navigator", {}); // no Web Locks in Node: the session takes its lock trivially
  const mem = new MemoryBackend();
  await createImage(mem, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
  const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
  for (const [at, seed] of [
    [1 * MiB, 1],
    [4 * MiB, 2],
  ]) {
    const data = patternBytes(seed, MiB);
    await w.write(at, data);
    model.set(data, at);
  }
  await w.finish();
  base = new Uint8Array(await mem.read(0, await mem.size()));
});

afterAll(() => {
  vi.unstubAllGlobals();
});

afterEach(async () => {
  await methods.close();
});

async function openWritable(bytes = base): Promise<ModelHandle> {
  const h = new ModelHandle("disk.vhdx", bytes);
  const r = await methods.open(ctx(), { kind: "handle", handle: h.handle, writable: true });
  expect(r.readOnly).toBe(false);
  return h;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("writeFile", () => {
  it("writes a multi-block file at an unaligned offset as one commit, streamed", async () => {
    const h = await openWritable();
    // From inside block 0's last sector, over present block 1, into block 3: four blocks touched.
    const offset = MiB - 777;
    const data = patternBytes(7, 2 * MiB + 12_345);
    const file = new StreamOnlyFile([new Uint8Array(data)], "boot.img");

    const estimate = await methods.writeFileCost(ctx(), offset, file.size);
    expect(estimate.refusal).toBeNull();
    // Blocks 0..3: block 1 is present (copied on write), 0, 2 and 3 are allocated; one BAT sector.
    expect(estimate.cost).toMatchObject({ blocksCopied: 1, blocksAllocated: 3, logSectors: 1 });

    const fractions: number[] = [];
    const r = await methods.writeFile(
      ctx(undefined, (f) => fractions.push(f)),
      offset,
      file,
    );
    expect(r).toMatchObject({ bytes: data.length, blocksCopied: 1, blocksAllocated: 3, atomic: true });
    expect(r.bytesWritten).toBe(estimate.cost!.bytesWritten);
    expect(file.streams).toBe(1);
    expect(h.writablesOpened).toBe(1);
    // Progress followed the bytes: several steps, never backwards, ending at 1.
    expect(fractions.length).toBeGreaterThan(3);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true);
    expect(fractions[fractions.length - 1]).toBe(1);

    const want = model.slice();
    want.set(data, offset);
    // Through the worker's open session, then a fresh open of the bytes now in the user's file.
    expect(same((await methods.read(ctx(), "virtual", 0, SIZE)).value, want)).toBe(true);
    const fresh = await openImage(new MemoryBackend(h.bytes), { readOnly: true });
    expect(same(await fresh.read(0, SIZE), want)).toBe(true);
    // QEMU's driver reads the same disk.
    const vhdx = tmp.path("written.vhdx");
    const raw = tmp.path("written.raw");
    writeFileSync(vhdx, h.bytes);
    runOk(requireTool("qemu-img"), ["convert", "-f", "vhdx", "-O", "raw", vhdx, raw]);
    expect(same(readFileSync(raw), want)).toBe(true);
    runOk(requireTool("qemu-img"), ["check", "-f", "vhdx", vhdx]);
  });

  it("a file larger than the 32 MiB staging budget still lands in one writable, atomically", async () => {
    // Past the budget the staged bytes leave memory; nothing the commit reads back is among them.
    const mem = new MemoryBackend();
    await createImage(mem, { type: "dynamic", virtualSize: 64 * MiB, blockSize: MiB });
    const h = await openWritable(new Uint8Array(await mem.read(0, await mem.size())));
    const data = patternBytes(8, 40 * MiB + 3);
    const r = await methods.writeFile(ctx(), 5 * MiB + 1, new StreamOnlyFile([new Uint8Array(data)], "big.img"));
    expect(r).toMatchObject({ bytes: data.length, blocksAllocated: 41, atomic: true });
    expect(h.writablesOpened).toBe(1);
    const fresh = await openImage(new MemoryBackend(h.bytes), { readOnly: true });
    expect(same(await fresh.read(5 * MiB + 1, data.length), data)).toBe(true);
  });

  it("refuses a file running past the end of the disk, writing nothing", async () => {
    const h = await openWritable();
    const file = new StreamOnlyFile([bytes(3, 1000)], "long.bin");
    const cost = await methods.writeFileCost(ctx(), SIZE - 999, file.size);
    expect(cost.refusal?.code).toBe("OUT_OF_RANGE");
    expect(cost.refusal?.message).toMatch(/past the end of the virtual disk \(16777216 bytes\) by 1 bytes/);
    const err = await methods.writeFile(ctx(), SIZE - 999, file).catch((e: unknown) => e);
    expect((err as VhdxError).code).toBe("OUT_OF_RANGE");
    expect(file.streams).toBe(0);
    expect(h.writablesOpened).toBe(0);
    expect(same(h.bytes, base)).toBe(true);
    // The last byte of the disk is still in range.
    expect((await methods.writeFileCost(ctx(), SIZE - 1000, file.size)).refusal).toBeNull();
  });

  it("a write whose switch does not fit the 1 MiB log is not refused: the commit grows the log first", async () => {
    // 256 GiB dynamic with 1 MiB blocks: a 200 GiB write switches ~400 BAT sectors, more than a 1 MiB log holds.
    const mem = new MemoryBackend();
    await createImage(mem, { type: "dynamic", virtualSize: 256 * 1024 * MiB, blockSize: MiB, logSize: MiB });
    const image = new Uint8Array(await mem.read(0, await mem.size()));
    const h = await openWritable(image);
    const size = 200 * 1024 * MiB;
    const cost = await methods.writeFileCost(ctx(), 0, size);
    expect(cost.refusal).toBeNull();
    // §2.5: chunk ratio 2^23 * 512 / 1 MiB = 4096, a sector bitmap entry after each chunk; 8-byte entries, 512 per 4 KiB sector.
    const lastEntry = 200 * 1024 - 1 + Math.floor((200 * 1024 - 1) / 4096);
    expect(cost.cost!.logSectors).toBe(Math.floor(lastEntry / 512) + 1);
    // Asking the cost writes nothing.
    expect(same(h.bytes, image)).toBe(true);

    // The write itself: a Blob that says 200 GiB and ends after 1 MiB (a file cut short while it is
    // read; what was read is the input). The log grows before the read, and the report says so.
    const data = bytes(9, MiB);
    class ClaimsMore extends Blob {
      override get size(): number {
        return size;
      }
    }
    const r = await methods.writeFile(ctx(), 3 * MiB, new ClaimsMore([data]));
    expect(r.bytes).toBe(MiB);
    expect(r.notices.join("\n")).toMatch(/the log was grown from 1 MiB to \d+ MiB/);
    const back = await openImage(new MemoryBackend(h.bytes));
    expect(back.header.logLength).toBeGreaterThan(MiB);
    expect(same(await back.read(3 * MiB, MiB), data)).toBe(true);
  });

  it("a cancel half-way leaves the file byte for byte as it was, and the session editable", async () => {
    const h = await openWritable();
    const data = patternBytes(9, 6 * MiB);
    const file = new StreamOnlyFile([new Uint8Array(data)], "big.img");
    const abort = new AbortController();
    let seen = 0;
    const err = await methods
      .writeFile(
        ctx(abort.signal, (f) => {
          // Cancel once a few blocks are staged, well before the end.
          if (f > 0.3 && f < 1) seen++;
          if (seen === 1) abort.abort();
        }),
        3 * MiB + 512,
        file,
      )
      .catch((e: unknown) => e);
    expect((err as VhdxError).code).toBe("CANCELLED");
    expect(seen).toBeGreaterThan(0);
    expect(same(h.bytes, base)).toBe(true);
    expect(same((await methods.read(ctx(), "virtual", 0, SIZE)).value, model)).toBe(true);
    // The session took no harm: the same write now commits.
    await methods.writeFile(ctx(), 3 * MiB + 512, new StreamOnlyFile([new Uint8Array(data)], "big.img"));
    const want = model.slice();
    want.set(data, 3 * MiB + 512);
    const fresh = await openImage(new MemoryBackend(h.bytes), { readOnly: true });
    expect(same(await fresh.read(0, SIZE), want)).toBe(true);
  });

  it("is refused on a read-only session as the hex Commit is", async () => {
    const h = new ModelHandle("disk.vhdx", base);
    await methods.open(ctx(), { kind: "handle", handle: h.handle, writable: false });
    const file = new StreamOnlyFile([bytes(1, 4096)], "x.bin");
    const cost = await methods.writeFileCost(ctx(), 0, file.size);
    expect(cost.refusal?.code).toBe("READ_ONLY");
    const err = await methods.writeFile(ctx(), 0, file).catch((e: unknown) => e);
    expect((err as VhdxError).code).toBe("READ_ONLY");
    expect(file.streams).toBe(0);
    expect(same(h.bytes, base)).toBe(true);
  });

  it("on a differencing image: refused without its parent, then written over the parent's bytes", async () => {
    const parentPath = tmp.path("parent.vhdx");
    const childPath = tmp.path("child.vhdx");
    const parentModel = await dynamicImageWith(parentPath, {
      size: SIZE,
      blockSize: MiB,
      offset: 0,
      data: patternBytes(5, 6 * MiB),
    });
    await differencingChild(childPath, parentPath, { blockSize: MiB });
    const childBytes = new Uint8Array(readFileSync(childPath));
    const h = await openWritable(childBytes);
    const data = bytes(6, MiB + 1001);
    const offset = 2 * MiB - 300; // partly written sectors at both ends keep the parent's bytes
    const file = new StreamOnlyFile([data], "part.img");

    const refused = await methods.writeFileCost(ctx(), offset, file.size);
    expect(refused.refusal?.code).toBe("PARENT_NOT_FOUND");
    const err = await methods.writeFile(ctx(), offset, file).catch((e: unknown) => e);
    expect((err as VhdxError).code).toBe("PARENT_NOT_FOUND");
    expect(file.streams).toBe(0);
    expect(same(h.bytes, childBytes)).toBe(true);

    await methods.attachChain(ctx(), {
      kind: "files",
      files: [{ kind: "file", file: new File([new Uint8Array(readFileSync(parentPath))], "parent.vhdx") }],
    });
    const cost = await methods.writeFileCost(ctx(), offset, file.size);
    expect(cost.refusal).toBeNull();
    // Blocks 1, 2 and 3 get space in the child, with their chunk's sector bitmap block.
    expect(cost.cost).toMatchObject({ blocksAllocated: 3, blocksCopied: 0, bitmapBlocksAllocated: 1 });
    await methods.writeFile(ctx(), offset, file);
    const want = parentModel.slice();
    want.set(data, offset);
    const child = await openImage(new MemoryBackend(h.bytes), { readOnly: true });
    child.parent = await openImage(new MemoryBackend(new Uint8Array(readFileSync(parentPath))), { readOnly: true });
    expect(same(await child.read(0, SIZE), want)).toBe(true);
  });
});
