/**
 * The flush budget of a commit (issue 4: a one-sector patch costs at most 3 flushes once the
 * session's header updates are done), counted on a backend that records every write, truncate
 * and flush in order. Each commit must be: payload (and file growth) → flush → log entry → flush
 * → apply → flush, whether the new block reuses free space or grows the file, and the entry's
 * FlushedFileOffset (§2.3.1.1) must be a size that was already durable when it was written.
 */
import { describe, expect, it } from "vitest";
import { createImage, CreateOptions } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { MiB } from "../../src/vhdx/bytes";
import { HEADER_OFFSETS } from "../../src/vhdx/header";
import { CommitInfo } from "../../src/vhdx/log";
import { VhdxWriter } from "../../src/vhdx/write";
import { commitPatch, estimatePatch } from "../../src/vhdx/patch";
import { Op, RecordingBackend } from "./recording";
import { pattern } from "./helpers";

interface Setup {
  rec: RecordingBackend;
  w: VhdxWriter;
  infos: CommitInfo[];
}

/** A writable image on a recording backend; `spare` bytes of unused space appended before opening. */
async function setup(o: CreateOptions, spare = 0): Promise<Setup> {
  const mem = new MemoryBackend();
  await createImage(mem, o);
  if (spare) await mem.truncate((await mem.size()) + spare);
  const rec = new RecordingBackend(mem.bytes());
  const infos: CommitInfo[] = [];
  const w = new VhdxWriter(await openImage(rec, { readOnly: false }), { afterLogFlush: (i) => void infos.push(i) });
  return { rec, w, infos };
}

/**
 * What the ops since `from` did, in order, with runs of payload writes and truncates folded into
 * one "data" step: the only flushes allowed are the ones between the steps.
 */
function steps(s: Setup, from: number): string[] {
  const h = s.w.image.header;
  const inLog = (op: Op) => op.kind === "write" && op.offset >= h.logOffset && op.offset < h.logOffset + h.logLength;
  const ops = s.rec.ops.slice(from);
  let lastLog = -1;
  ops.forEach((op, i) => void (inLog(op) && (lastLog = i)));
  const kind = (op: Op, i: number): string => {
    if (op.kind === "flush") return "flush";
    if (op.kind === "write" && HEADER_OFFSETS.includes(op.offset as 65536)) return "header";
    if (inLog(op)) return "log";
    // Everything else is payload before the entry (block data, growth) or the entry applied after it.
    return i > lastLog ? "apply" : "data";
  };
  const out: string[] = [];
  ops.forEach((op, i) => {
    const k = kind(op, i);
    if (k === "flush" || out[out.length - 1] !== k) out.push(k);
  });
  return out;
}

/** The durable file size after the ops before `upTo` (writes and truncates count once a flush follows). */
function durableSize(rec: RecordingBackend, initial: number, upTo: number): number {
  let size = initial;
  let pending = initial;
  for (const op of rec.ops.slice(0, upTo)) {
    if (op.kind === "write") pending = Math.max(pending, op.offset + op.data.length);
    else if (op.kind === "truncate") pending = op.size;
    else size = pending;
  }
  return size;
}

const THREE = ["data", "flush", "log", "flush", "apply", "flush"];

/** One commit after the session start: its estimate, its steps and its FlushedFileOffset. */
async function measure(s: Setup, initialSize: number, act: () => Promise<void>) {
  const from = s.rec.ops.length;
  const sizeBefore = await s.rec.size();
  await act();
  const flushes = s.rec.ops.slice(from).filter((o) => o.kind === "flush").length;
  const info = s.infos[s.infos.length - 1];
  // The op that wrote the entry: the flush before it is what FlushedFileOffset may rely on.
  const entryOp = s.rec.ops.findIndex((o, i) => i >= from && o.kind === "write" && o.offset === info.entryFileOffset);
  return {
    flushes,
    steps: steps(s, from),
    grew: (await s.rec.size()) > sizeBefore,
    flushedFileOffset: info.flushedFileOffset,
    durableAtEntry: durableSize(s.rec, initialSize, entryOp),
  };
}

describe("flush budget of a commit", () => {
  it("a one-sector patch into a present block: 3 flushes, growing the file or reusing the block it freed", async () => {
    const s = await setup({ type: "dynamic", virtualSize: 16 * MiB, blockSize: MiB });
    const initial = await s.rec.size();
    await s.w.write(0, pattern(1, 2 * MiB)); // blocks 0 and 1 present; the session's header updates
    for (const [i, offset] of [4096, MiB + 512, 8192].entries()) {
      const edit = [{ offset, data: pattern(10 + i, 512) }];
      const est = await estimatePatch(s.w, edit);
      expect(est.blocksCopied).toBe(1);
      const m = await measure(s, initial, () => commitPatch(s.w, edit));
      // The first copy has no free space and grows the file; the later ones reuse freed blocks.
      expect(m.grew).toBe(i === 0);
      expect(m.steps).toEqual(THREE);
      expect(m.flushes).toBe(3);
      expect(est.flushes).toBe(3);
      expect(m.flushedFileOffset).toBeLessThanOrEqual(m.durableAtEntry);
      expect(m.flushedFileOffset).toBe(Math.floor(m.durableAtEntry / MiB) * MiB);
    }
    expect(Buffer.from(await s.w.read(4096, 512)).equals(Buffer.from(pattern(10, 512)))).toBe(true);
  });

  it("a one-sector patch into a NOT_PRESENT block with no free space: the file grows, still 3 flushes", async () => {
    const s = await setup({ type: "dynamic", virtualSize: 16 * MiB, blockSize: MiB });
    const initial = await s.rec.size();
    await commitPatch(s.w, [{ offset: 0, data: pattern(1, 512) }]); // session start
    expect(s.w.allocator.freeBytes()).toBe(0);
    const edit = [{ offset: 5 * MiB + 1024, data: pattern(2, 512) }];
    const est = await estimatePatch(s.w, edit);
    expect(est).toMatchObject({ blocksAllocated: 1, blocksCopied: 0, flushes: 3 });
    const m = await measure(s, initial, () => commitPatch(s.w, edit));
    expect(m.grew).toBe(true);
    expect(m.steps).toEqual(THREE);
    expect(m.flushes).toBe(3);
    // The data flush made the grown size durable, and the entry says so.
    expect(m.flushedFileOffset).toBe(await s.rec.size());
    expect(m.flushedFileOffset).toBe(m.durableAtEntry);
  });

  it("a one-sector patch into a NOT_PRESENT block that reuses free space: 3 flushes, the file keeps its size", async () => {
    const s = await setup({ type: "dynamic", virtualSize: 16 * MiB, blockSize: MiB }, 4 * MiB);
    const initial = await s.rec.size();
    await commitPatch(s.w, [{ offset: 0, data: pattern(1, 512) }]); // session start, takes one free MiB
    const edit = [{ offset: 9 * MiB, data: pattern(3, 512) }];
    const est = await estimatePatch(s.w, edit);
    expect(est).toMatchObject({ blocksAllocated: 1, flushes: 3 });
    const m = await measure(s, initial, () => commitPatch(s.w, edit));
    expect(m.grew).toBe(false);
    expect(m.steps).toEqual(THREE);
    expect(m.flushes).toBe(3);
    expect(s.w.image.blockLocation(9).fileOffset).toBeLessThan(initial);
    expect(m.flushedFileOffset).toBe(m.durableAtEntry);
  });

  it("an allocating write that grows the file, and a differencing patch that also allocates a sector bitmap block: 3 flushes", async () => {
    const s = await setup({ type: "dynamic", virtualSize: 16 * MiB, blockSize: MiB });
    const initial = await s.rec.size();
    await s.w.write(0, pattern(1, 512)); // session start
    const m = await measure(s, initial, () => s.w.write(7 * MiB, pattern(2, 512)));
    expect(m.grew).toBe(true);
    expect(m.steps).toEqual(THREE);
    expect(m.flushes).toBe(3);
    expect(m.flushedFileOffset).toBe(m.durableAtEntry);

    const d = await setup({
      type: "differencing",
      blockSize: MiB,
      parent: {
        dataWriteGuid: "{11111111-2222-3333-4444-555555555555}",
        virtualDiskSize: 16 * MiB,
        virtualDiskId: "{66666666-7777-8888-9999-000000000000}",
        logicalSectorSize: 512,
        physicalSectorSize: 4096,
        relativePath: "p.vhdx",
      },
    });
    const dInitial = await d.rec.size();
    await d.w.beginDataWrite();
    // No parent attached: NOT_PRESENT sectors read as zeros, which is all this count needs.
    const edit = [{ offset: 3 * MiB + 512, data: pattern(4, 512) }];
    const est = await estimatePatch(d.w, edit);
    expect(est.bitmapBlocksAllocated).toBe(1);
    const dm = await measure(d, dInitial, () => commitPatch(d.w, edit));
    expect(dm.grew).toBe(true);
    // The first log entry of the session brings its LogGuid header update (2 flushes) first.
    expect(dm.flushes).toBe(est.flushes);
    expect(est.flushes).toBe(5);
    expect(dm.flushedFileOffset).toBe(dm.durableAtEntry);
  });

  it("the session's first commit costs what the estimate says: header updates, then the same 3", async () => {
    const s = await setup({ type: "dynamic", virtualSize: 16 * MiB, blockSize: MiB });
    const initial = await s.rec.size();
    const edit = [{ offset: 2 * MiB, data: pattern(5, 512) }];
    const est = await estimatePatch(s.w, edit);
    const m = await measure(s, initial, () => commitPatch(s.w, edit));
    expect(est.flushes).toBe(7);
    expect(m.flushes).toBe(7);
    expect(m.steps).toEqual([
      "header",
      "flush",
      "header",
      "flush",
      "data",
      ...THREE.slice(1, 2),
      "header",
      "flush",
      "header",
      "flush",
      ...THREE.slice(2),
    ]);
    expect(m.flushedFileOffset).toBe(m.durableAtEntry);
  });
});
