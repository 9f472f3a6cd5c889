/**
 * The worker's merge of the open differencing image into a picked parent, on models of Chromium's
 * writable file handles. An editable child is told of the merge before the parent changes (it
 * names the parent's next DataWriteGuid as parent_linkage2, seen in the child's file at the moment
 * the parent's first byte is written) and the name is taken back afterwards; a read-only child is
 * not touched. The merged parent reads as the chain did and qemu-img finds it clean; a cancelled
 * merge leaves the parent byte for byte as it was and the child opening over it.
 */
import { writeFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { openImage, type VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { locatorValue } from "../../src/vhdx/parentLocator";
import { VhdxWriter } from "../../src/vhdx/write";
import { methods } from "../../src/worker/methods";
import type { CallContext } from "../../src/worker/protocol";
import { memoryChild } from "../helpers/child";
import { ModelHandle } from "../helpers/modelHandle";
import { patternBytes } from "../helpers/random";
import { runOk } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";

const MiB = 1024 * 1024;
const SIZE = 8 * MiB;
const tmp = useTempDir("vhdx-worker-merge-");
const ctx = (signal = new AbortController().signal, progress: CallContext["progress"] = () => undefined) => ({
  signal,
  progress,
});

let parentBytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);
let childBytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);
let parentGuid = "";
/** The chain's virtual disk: the parent's bytes with the child's writes over them. */
const chainModel = new Uint8Array(SIZE);

/** A parent whose writables report their first write, so the child can be looked at just then. */
class WatchedHandle extends ModelHandle {
  onFirstWrite: (() => void) | null = null;
  override async createWritable(opts: { keepExistingData?: boolean } = {}) {
    const w = await super.createWritable(opts);
    const write = w.write;
    w.write = async (cmd) => {
      this.onFirstWrite?.();
      this.onFirstWrite = null;
      return write(cmd);
    };
    return w;
  }
}

async function bytesOf(mem: MemoryBackend): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await mem.read(0, await mem.size()));
}

function linkage(img: VhdxImage): { parent_linkage?: string; parent_linkage2?: string } {
  const pl = img.params.parentLocator!;
  const l1 = locatorValue(pl, "parent_linkage");
  const l2 = locatorValue(pl, "parent_linkage2");
  return { ...(l1 ? { parent_linkage: l1 } : {}), ...(l2 ? { parent_linkage2: l2 } : {}) };
}

beforeAll(async () => {
  vi.stubGlobal("navigator", {}); // no Web Locks in Node: the session takes its lock trivially
  const pmem = new MemoryBackend();
  await createImage(pmem, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
  const pw = new VhdxWriter(await openImage(pmem, { readOnly: false }));
  const base = patternBytes(1, 6 * MiB);
  await pw.write(0, base);
  chainModel.set(base);
  await pw.finish();
  parentBytes = await bytesOf(pmem);
  const parent = await openImage(new MemoryBackend(parentBytes), { readOnly: true });
  parentGuid = parent.header.dataWriteGuid;
  const { mem: cmem, child } = await memoryChild(parent, { relativePath: "parent.vhdx" });
  const cw = new VhdxWriter(child);
  for (const [at, n, seed] of [
    [512, 1024, 2],
    [3 * MiB, MiB, 3],
    [7 * MiB + 4096, 8192, 4],
  ]) {
    const data = patternBytes(seed, n);
    await cw.write(at, data);
    chainModel.set(data, at);
  }
  await cw.finish();
  childBytes = await bytesOf(cmem);
});

afterAll(() => vi.unstubAllGlobals());
afterEach(async () => {
  await methods.close();
});

async function openChain(child: ModelHandle | File, parent: ModelHandle): Promise<void> {
  const source =
    child instanceof File
      ? { kind: "file" as const, file: child }
      : { kind: "handle" as const, handle: child.handle, writable: true };
  await methods.open(ctx(), source);
  await methods.attachChain(ctx(), { kind: "files", files: [{ kind: "handle", handle: parent.handle }] });
}

describe.skipIf(missingTools("qemu-img"))("merge in the worker", () => {
  it("tells an editable child before the parent changes, merges, then takes the name back", async () => {
    const parent = new WatchedHandle("parent.vhdx", parentBytes);
    const child = new ModelHandle("child.vhdx", childBytes);
    await openChain(child, parent);
    let childWhenParentChanged: Uint8Array | null = null;
    parent.onFirstWrite = () => {
      childWhenParentChanged = child.bytes.slice();
    };
    const r = await methods.mergeOpen(ctx(), parent.handle);
    expect(r.child).toBe("unlinked");
    expect(r.summary).toMatch(/child\.vhdx is no longer linked to it/);

    const merged = await openImage(new MemoryBackend(parent.bytes), { readOnly: true });
    const nextGuid = merged.header.dataWriteGuid;
    expect(nextGuid).not.toBe(parentGuid);
    expect(Buffer.from(await merged.read(0, SIZE)).equals(Buffer.from(chainModel))).toBe(true);
    const path = tmp.path("merged.vhdx");
    writeFileSync(path, parent.bytes);
    expect(runOk("qemu-img", ["check", path]).stdout).toMatch(/No errors were found/);

    // When the parent's first byte was written, the child already named both identities.
    expect(childWhenParentChanged).not.toBeNull();
    const during = await openImage(new MemoryBackend(childWhenParentChanged!), { readOnly: true });
    expect(linkage(during)).toEqual({ parent_linkage: `{${parentGuid}}`, parent_linkage2: `{${nextGuid}}` });
    // That child opens over the merged parent (a crash right after the merge) and reads as it.
    during.parent = merged;
    expect(Buffer.from(await during.read(0, SIZE)).equals(Buffer.from(chainModel))).toBe(true);

    // Afterwards the child names only the parent it was made from; its own identity is unchanged.
    const after = await openImage(new MemoryBackend(child.bytes), { readOnly: true });
    expect(linkage(after)).toEqual({ parent_linkage: `{${parentGuid}}` });
    const before = await openImage(new MemoryBackend(childBytes), { readOnly: true });
    expect(after.header.dataWriteGuid).toBe(before.header.dataWriteGuid);
    expect(after.logNeedsReplay).toBe(false);
  });

  it("a merge larger than the 32 MiB staging budget still reaches the parent in one writable", async () => {
    const big = 48 * MiB;
    const pm = new MemoryBackend();
    await createImage(pm, { type: "dynamic", virtualSize: big, blockSize: MiB });
    const pw = new VhdxWriter(await openImage(pm, { readOnly: false }));
    await pw.write(0, patternBytes(5, 8 * MiB));
    await pw.finish();
    const parentImage = await openImage(new MemoryBackend(await bytesOf(pm)), { readOnly: true });
    const cm = new MemoryBackend();
    await createImage(cm, {
      type: "differencing",
      blockSize: MiB,
      parent: parentInfoOf(parentImage, { relativePath: "p.vhdx" }),
    });
    const cw = new VhdxWriter(await openImage(cm, { readOnly: false }));
    const ours = patternBytes(6, 40 * MiB);
    await cw.write(8 * MiB, ours); // whole blocks: nothing widened from the parent
    await cw.finish();
    const parent = new ModelHandle("p.vhdx", await bytesOf(pm));
    await openChain(new ModelHandle("c.vhdx", await bytesOf(cm)), parent);
    const r = await methods.mergeOpen(ctx(), parent.handle);
    expect(r.blocksMerged).toBe(40);
    expect(r.summary).not.toMatch(/more than one step/);
    expect(parent.writablesOpened).toBe(1);
    const merged = await openImage(new MemoryBackend(parent.bytes), { readOnly: true });
    expect(Buffer.from(await merged.read(8 * MiB, ours.length)).equals(Buffer.from(ours))).toBe(true);
    expect(Buffer.from(await merged.read(0, 8 * MiB)).equals(Buffer.from(patternBytes(5, 8 * MiB)))).toBe(true);
  });

  it("leaves a read-only child untouched", async () => {
    const parent = new ModelHandle("parent.vhdx", parentBytes);
    await openChain(new File([childBytes.slice()], "child.vhdx"), parent);
    const r = await methods.mergeOpen(ctx(), parent.handle);
    expect(r.child).toBe("untouched");
    expect(r.summary).not.toMatch(/linked/);
    const merged = await openImage(new MemoryBackend(parent.bytes), { readOnly: true });
    expect(Buffer.from(await merged.read(0, SIZE)).equals(Buffer.from(chainModel))).toBe(true);
  });

  it("a merge cancelled after the child was told leaves the parent as it was, and the child opening over it", async () => {
    const parent = new ModelHandle("parent.vhdx", parentBytes);
    const child = new ModelHandle("child.vhdx", childBytes);
    await openChain(child, parent);
    const abort = new AbortController();
    const err = await methods
      .mergeOpen(
        ctx(abort.signal, () => abort.abort()),
        parent.handle,
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CANCELLED" });
    expect(Buffer.from(parent.bytes).equals(Buffer.from(parentBytes))).toBe(true);
    const told = await openImage(new MemoryBackend(child.bytes), { readOnly: true });
    // It was told (the first progress comes once the copying starts) and was not told back.
    expect(linkage(told).parent_linkage).toBe(`{${parentGuid}}`);
    expect(linkage(told).parent_linkage2).toMatch(/^\{[0-9a-f-]{36}\}$/);
    expect(linkage(told).parent_linkage2).not.toBe(`{${parentGuid}}`);
    told.parent = await openImage(new MemoryBackend(parent.bytes), { readOnly: true });
    expect(Buffer.from(await told.read(0, SIZE)).equals(Buffer.from(chainModel))).toBe(true);
  });
});
