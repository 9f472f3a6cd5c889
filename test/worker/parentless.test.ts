/**
 * The worker's methods on a differencing image opened without its parent: every edit is refused
 * by the worker itself (PARENT_NOT_FOUND, structure "parent locator") before anything is written,
 * and the same edit commits once the parent is attached, reading back as the parent's bytes with
 * the edit laid over them (§2.4: unwritten sectors stay with the parent).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { VhdxError } from "../../src/vhdx/errors";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { VhdxWriter } from "../../src/vhdx/write";
import { createRpcClient } from "../../src/app/engine/rpc";
import { serve } from "../../src/worker/host";
import { methods, type EngineMethods } from "../../src/worker/methods";
import type { CallContext, Port } from "../../src/worker/protocol";
import { ModelHandle } from "../helpers/modelHandle";

const MiB = 1024 * 1024;
const SIZE = 8 * MiB;

const ctx = (): CallContext => ({ signal: new AbortController().signal, progress: () => undefined });

const pattern = (seed: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + 1) & 255);

let parentBytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);
let childBytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);
/** The parent's virtual disk: what the child reads wherever it holds nothing. */
const parentModel = pattern(9, SIZE);

async function bytesOf(mem: MemoryBackend): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await mem.read(0, await mem.size()));
}

beforeAll(async () => {
  // No Web Locks in Node: the session takes its lock trivially.
  vi.stubGlobal("navigator", {});
  const pmem = new MemoryBackend();
  await createImage(pmem, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
  const pw = new VhdxWriter(await openImage(pmem, { readOnly: false }));
  await pw.write(0, parentModel);
  await pw.finish();
  parentBytes = await bytesOf(pmem);
  const parent = await openImage(pmem, { readOnly: true });
  const cmem = new MemoryBackend();
  await createImage(cmem, {
    type: "differencing",
    blockSize: MiB,
    parent: parentInfoOf(parent, { relativePath: "parent.vhdx" }),
  });
  childBytes = await bytesOf(cmem);
});

afterAll(() => {
  vi.unstubAllGlobals();
});

afterEach(async () => {
  await methods.close();
});

async function openChild(): Promise<ModelHandle> {
  const handle = new ModelHandle("child.vhdx", childBytes);
  const r = await methods.open(ctx(), {
    kind: "handle",
    handle: handle as unknown as FileSystemFileHandle,
    writable: true,
  });
  // The storage is writable: only the missing parent stands in the way.
  expect(r.readOnly).toBe(false);
  expect(r.info.diskType).toBe("differencing");
  return handle;
}

/** Part of one sector (widened to the whole sector from the parent) and a whole sector elsewhere. */
const patch = [
  { space: "virtual" as const, offset: 1000, data: pattern(1, 24) },
  { space: "virtual" as const, offset: 3 * MiB, data: pattern(2, 512) },
];

describe("a differencing image opened without its parent", () => {
  it("refuses commits in the worker with PARENT_NOT_FOUND on the parent locator, writing nothing", async () => {
    const handle = await openChild();
    const ch = new MessageChannel();
    const stop = serve(ch.port1 as unknown as Port, methods);
    const client = createRpcClient<EngineMethods>(ch.port2 as unknown as Port);
    ch.port1.start();
    ch.port2.start();
    try {
      const err = await client.api.commitPatch(patch).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VhdxError);
      expect((err as VhdxError).code).toBe("PARENT_NOT_FOUND");
      expect((err as VhdxError).structure).toBe("parent locator");
      expect((err as VhdxError).message).toMatch(/without its parent/);
      // The whole-sector edit alone is refused too: the image is not editable, whatever the edit.
      const whole = await client.api.commitPatch([patch[1]]).catch((e: unknown) => e);
      expect((whole as VhdxError).code).toBe("PARENT_NOT_FOUND");

      const refusal = await client.api.editRefusal();
      expect(refusal).toMatchObject({ code: "PARENT_NOT_FOUND", structure: "parent locator" });
      const cost = await client.api.patchCost(patch);
      expect(cost.problems.join(" ")).toMatch(/without its parent/);
    } finally {
      stop();
      ch.port1.close();
      ch.port2.close();
    }
    expect(handle.writablesOpened).toBe(0);
    expect(Buffer.from(handle.bytes).equals(Buffer.from(childBytes))).toBe(true);
  });

  it("keeps the attached parent when a cancelled commit reloads the image", async () => {
    const handle = await openChild();
    await methods.attachChain(ctx(), {
      kind: "files",
      files: [{ kind: "file", file: new File([parentBytes], "parent.vhdx") }],
    });
    const abort = new AbortController();
    abort.abort();
    const err = await methods
      .commitPatch({ signal: abort.signal, progress: () => undefined }, patch)
      .catch((e: unknown) => e);
    expect((err as VhdxError).code).toBe("CANCELLED");
    expect(Buffer.from(handle.bytes).equals(Buffer.from(childBytes))).toBe(true);
    // Reads still go through the parent, and edits are still allowed.
    expect(await methods.editRefusal()).toBeNull();
    const got = await methods.read(ctx(), "virtual", 2 * MiB, 4096);
    expect(Buffer.from(got.value).equals(Buffer.from(parentModel.subarray(2 * MiB, 2 * MiB + 4096)))).toBe(true);
  });

  it("commits the same patch once the parent is attached, over the parent's bytes", async () => {
    const handle = await openChild();
    await methods.attachChain(ctx(), {
      kind: "files",
      files: [{ kind: "file", file: new File([parentBytes], "parent.vhdx") }],
    });
    expect(await methods.editRefusal()).toBeNull();
    await methods.commitPatch(ctx(), patch);
    expect(handle.writablesOpened).toBe(1);

    const want = parentModel.slice();
    for (const w of patch) want.set(w.data, w.offset);
    // Read back through a fresh open of what landed in the file, with the parent attached by hand.
    const child = await openImage(new MemoryBackend(handle.bytes), { readOnly: true });
    child.parent = await openImage(new MemoryBackend(parentBytes), { readOnly: true });
    const got = await child.read(0, 4 * MiB);
    expect(Buffer.from(got).equals(Buffer.from(want.subarray(0, 4 * MiB)))).toBe(true);
    // The child holds only the written sectors; the rest of the widened sector came from the parent.
    child.parent = null;
    expect(Buffer.from(await child.read(512, 512)).equals(Buffer.from(want.subarray(512, 1024)))).toBe(true);
    await expect(child.read(0, 512)).rejects.toMatchObject({ code: "PARENT_NOT_FOUND" });
  });
});
