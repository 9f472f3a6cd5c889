/**
 * Crash consistency: for every commit of a scripted workload, a power cut after each of its
 * writes (unflushed writes kept, dropped or torn at 512 bytes, in several combinations) must
 * leave a file that opens and whose virtual disk equals exactly the state before or after
 * that commit. Reopening replays the log, so replay is exercised at every point too.
 */
import { describe, expect, it } from "vitest";
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { openImage, VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxWriter } from "../../src/vhdx/write";
import { commitPatch, PatchEdit } from "../../src/vhdx/patch";
import { commitStructurePatch } from "../../src/vhdx/structurePatch";
import { serializeGuidItem, VIRTUAL_DISK_ID_GUID } from "../../src/vhdx/metadata";
import { forEachCrash, RecordingBackend } from "./recording";
import { pattern } from "./helpers";

const SIZE = 8 * MiB;

interface State {
  bytes: Uint8Array;
  id: string;
}
interface Commit {
  name: string;
  start: number;
  end: number;
  before: State;
  after: State;
}

/** Runs a workload on a recording backend, noting each commit's op range and its before/after states. */
class Script {
  readonly commits: Commit[] = [];
  constructor(
    readonly rec: RecordingBackend,
    public state: State,
  ) {}

  async commit(name: string, change: (s: State) => State, fn: () => Promise<void>): Promise<void> {
    const start = this.rec.ops.length;
    await fn();
    const after = change(this.state);
    this.commits.push({ name, start, end: this.rec.ops.length, before: this.state, after });
    this.state = after;
  }
}

function withEdits(s: State, edits: PatchEdit[]): State {
  const bytes = s.bytes.slice();
  for (const e of edits) bytes.set(e.data, e.offset);
  return { bytes, id: s.id };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Opens each crash image (replaying its log) and checks it holds the before or the after state. */
async function checkCommits(
  initial: Uint8Array,
  script: Script,
  parent: VhdxImage | null,
): Promise<{ tried: number; before: number; after: number }> {
  let tried = 0;
  let before = 0;
  let after = 0;
  for (const c of script.commits) {
    tried += await forEachCrash(initial, script.rec.ops, c.start, c.end, async (crash) => {
      let img: VhdxImage;
      try {
        img = await openImage(new MemoryBackend(crash.bytes), { readOnly: false });
      } catch (e) {
        throw new Error(
          `${c.name}: crash after op ${crash.op} (${crash.variant}) leaves a file that does not open: ${(e as Error).message}`,
        );
      }
      img.parent = parent;
      const bytes = await img.read(0, SIZE);
      const id = img.params.virtualDiskId;
      const isBefore = same(bytes, c.before.bytes) && id === c.before.id;
      const isAfter = same(bytes, c.after.bytes) && id === c.after.id;
      if (!isBefore && !isAfter)
        throw new Error(
          `${c.name}: crash after op ${crash.op} (${crash.variant}) leaves neither the before nor the after state`,
        );
      if (isAfter) after++;
      else before++;
    });
  }
  return { tried, before, after };
}

async function baseImage(): Promise<{ bytes: Uint8Array; model: Uint8Array; id: string }> {
  const mem = new MemoryBackend();
  await createImage(mem, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
  const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
  const model = new Uint8Array(SIZE);
  await w.write(0, pattern(1, 2 * MiB));
  model.set(pattern(1, 2 * MiB));
  await w.finish();
  return { bytes: mem.bytes(), model, id: w.image.params.virtualDiskId };
}

describe("crash consistency", () => {
  it("allocating writes, atomic patches, a structure patch and the session's header updates", async () => {
    const base = await baseImage();
    const rec = new RecordingBackend(base.bytes);
    const script = new Script(rec, { bytes: base.model, id: base.id });
    const w = new VhdxWriter(await openImage(rec, { readOnly: false }));
    const e1 = [{ offset: 2 * MiB + 100, data: pattern(2, 5000) }];
    await script.commit(
      "allocating write (with the session's header updates)",
      (s) => withEdits(s, e1),
      () => w.write(e1[0].offset, e1[0].data),
    );
    const e2 = [
      { offset: 1000, data: pattern(3, 700) },
      { offset: MiB - 1, data: pattern(4, 2) },
      { offset: 5 * MiB + 3, data: pattern(5, 3000) },
    ];
    await script.commit(
      "atomic patch over two present blocks and a new one",
      (s) => withEdits(s, e2),
      () => commitPatch(w, e2),
    );
    const newId = "0badc0de-1234-4abc-8def-00112233aabb";
    const idItem = w.image.metadataTable.entries.find((e) => e.itemId === VIRTUAL_DISK_ID_GUID)!;
    await script.commit(
      "structure patch of a metadata item",
      (s) => ({ bytes: s.bytes, id: newId }),
      () =>
        commitStructurePatch(w, [
          { fileOffset: w.image.metadataRegion.fileOffset + idItem.offset, data: serializeGuidItem(newId) },
        ]),
    );
    // Two blocks that are not present yet: one commit allocates both. (A plain write into present
    // blocks is in place, with the disk's own per-sector atomicity; patches are the all-or-nothing path.)
    const e4 = [{ offset: 3 * MiB + 512, data: pattern(6, 2 * MiB - 1024) }];
    await script.commit(
      "allocating write over two new blocks",
      (s) => withEdits(s, e4),
      () => w.write(e4[0].offset, e4[0].data),
    );
    await script.commit(
      "marking the log empty",
      (s) => s,
      () => w.finish(),
    );
    const r = await checkCommits(base.bytes, script, null);
    console.log(
      `crash points tried (dynamic workload): ${r.tried} (${r.before} before-states, ${r.after} after-states)`,
    );
    expect(r.before).toBeGreaterThan(0);
    expect(r.after).toBeGreaterThan(0);
  });

  it("differencing: new blocks with sector bitmap blocks, bitmap updates and a copy-on-write patch", async () => {
    const base = await baseImage();
    const parent = await openImage(new MemoryBackend(base.bytes));
    const cmem = new MemoryBackend();
    await createImage(cmem, {
      type: "differencing",
      blockSize: MiB,
      parent: parentInfoOf(parent, { relativePath: "p.vhdx" }),
    });
    const initial = cmem.bytes();
    const rec = new RecordingBackend(initial);
    const script = new Script(rec, { bytes: base.model, id: base.id });
    const child = await openImage(rec, { readOnly: false });
    child.parent = parent;
    const w = new VhdxWriter(child);
    const e1 = [{ offset: MiB + 700, data: pattern(7, 3000) }];
    await script.commit(
      "write into a NOT_PRESENT block",
      (s) => withEdits(s, e1),
      () => w.write(e1[0].offset, e1[0].data),
    );
    const e2 = [{ offset: MiB + 100_000, data: pattern(8, 10_000) }];
    await script.commit(
      "write more sectors of the PARTIALLY_PRESENT block",
      (s) => withEdits(s, e2),
      () => w.write(e2[0].offset, e2[0].data),
    );
    const e3 = [
      { offset: MiB + 600, data: pattern(9, 300) },
      { offset: 6 * MiB, data: pattern(10, 512) },
    ];
    await script.commit(
      "atomic patch of a PARTIALLY_PRESENT block",
      (s) => withEdits(s, e3),
      () => commitPatch(w, e3),
    );
    await script.commit(
      "marking the log empty",
      (s) => s,
      () => w.finish(),
    );
    const r = await checkCommits(initial, script, parent);
    console.log(
      `crash points tried (differencing workload): ${r.tried} (${r.before} before-states, ${r.after} after-states)`,
    );
    expect(r.after).toBeGreaterThan(0);
  });

  it("fixed image: patches move present blocks out of the contiguous payload and back", async () => {
    const mem = new MemoryBackend();
    await createImage(mem, { type: "fixed", virtualSize: SIZE, blockSize: MiB });
    const initial = mem.bytes();
    const rec = new RecordingBackend(initial);
    const img = await openImage(rec, { readOnly: false });
    const script = new Script(rec, { bytes: new Uint8Array(SIZE), id: img.params.virtualDiskId });
    const w = new VhdxWriter(img);
    const e1 = [
      { offset: 7, data: pattern(20, 9000) },
      { offset: 7 * MiB + 1, data: pattern(21, 511) },
    ];
    await script.commit(
      "patch of two fixed blocks (space grows)",
      (s) => withEdits(s, e1),
      () => commitPatch(w, e1),
    );
    const e2 = [{ offset: 3 * MiB, data: pattern(22, 4096) }];
    await script.commit(
      "patch reusing the freed space",
      (s) => withEdits(s, e2),
      () => commitPatch(w, e2),
    );
    await script.commit(
      "marking the log empty",
      (s) => s,
      () => w.finish(),
    );
    const r = await checkCommits(initial, script, null);
    console.log(`crash points tried (fixed workload): ${r.tried} (${r.before} before-states, ${r.after} after-states)`);
    expect(r.after).toBeGreaterThan(0);
  });

  it("replay itself: a cut during replay still yields the committed state", async () => {
    const base = await baseImage();
    // A session stopped right after its patch's log entry was flushed, before it was applied.
    const mem = new MemoryBackend(base.bytes);
    const stop = new Error("power cut");
    let armed = false;
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }), {
      afterLogFlush: () => {
        if (armed) throw stop;
      },
    });
    await w.write(4 * MiB, pattern(11, 10)); // a first commit, applied
    armed = true;
    const edits = [
      { offset: 10, data: pattern(12, 4000) },
      { offset: 7 * MiB, data: pattern(13, 100) },
    ];
    await expect(commitPatch(w, edits)).rejects.toBe(stop);
    const dirty = mem.bytes();
    const model = base.model.slice();
    model.set(pattern(11, 10), 4 * MiB);
    for (const e of edits) model.set(e.data, e.offset);
    // Replay on a recording backend, then cut it at every write.
    const rec = new RecordingBackend(dirty);
    const replayed = await openImage(rec, { readOnly: false });
    expect(same(await replayed.read(0, SIZE), model)).toBe(true);
    let tried = 0;
    tried += await forEachCrash(dirty, rec.ops, 0, rec.ops.length, async (crash) => {
      const img = await openImage(new MemoryBackend(crash.bytes), { readOnly: false });
      if (!same(await img.read(0, SIZE), model))
        throw new Error(`cut during replay after op ${crash.op} (${crash.variant}) lost the committed patch`);
    });
    console.log(`crash points tried (replay): ${tried}`);
    expect(tried).toBeGreaterThan(0);
  });
});
