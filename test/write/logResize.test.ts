/**
 * Growing, shrinking and moving the log (§2.2.2 LogOffset/LogLength through the header update
 * protocol of §2.2.2.1). A power cut after every write of a resize (unflushed writes kept, dropped
 * or torn) leaves a file that opens with exactly the old log or the new one and the same virtual
 * disk; `vhdx log --resize` killed before its positional writes (the kill points of
 * test/helpers/crash.ts killPoints; VHDX_FULL_CRASH=1: every write) leaves a file that
 * `qemu-img check` passes and that qemu-img reads as before.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { MAX_LOG_LENGTH, resizeLog } from "../../src/vhdx/logResize";
import { commitPatch } from "../../src/vhdx/patch";
import { VhdxWriter } from "../../src/vhdx/write";
import { crashShimUnavailable, killPoints, runKilledAt, traceWrites } from "../helpers/crash";
import { hasTool, pattern, qemuCheck, qemuToRaw, runOk, tempDir } from "./helpers";
import { forEachCrash, RecordingBackend } from "./recording";

const SIZE = 8 * MiB;
const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");

/** A dynamic image holding data in its first 3 MiB, and the virtual disk it holds. */
async function base(): Promise<{ bytes: Uint8Array; model: Uint8Array }> {
  const mem = new MemoryBackend();
  await createImage(mem, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
  const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
  const model = new Uint8Array(SIZE);
  model.set(pattern(1, 3 * MiB));
  await w.write(0, model.subarray(0, 3 * MiB));
  await w.finish();
  return { bytes: mem.bytes(), model };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("resizing the log", () => {
  it("moves, grows in place and shrinks; the old region becomes free space and new blocks may use it", async () => {
    const { bytes, model } = await base();
    const mem = new MemoryBackend(bytes);
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
    const at = w.image.header.logOffset;
    // The metadata region follows the log: a larger log must move.
    const grown = await resizeLog(w, 4 * MiB);
    expect(grown.moved).toBe(true);
    expect(grown.to.offset % MiB).toBe(0);
    expect(w.image.header.logLength).toBe(4 * MiB);
    // At the end of the file now, so it grows in place.
    const again = await resizeLog(w, 6 * MiB);
    expect(again).toMatchObject({ moved: false, to: { offset: grown.to.offset, length: 6 * MiB } });
    const shrunk = await resizeLog(w, MiB);
    expect(shrunk).toMatchObject({ moved: false, to: { offset: grown.to.offset, length: MiB } });
    // A patch after the resize goes through the new log; new blocks may land in the old log's place.
    await commitPatch(w, [{ offset: 5 * MiB, data: pattern(2, 3 * MiB) }]);
    model.set(pattern(2, 3 * MiB), 5 * MiB);
    await w.finish();
    const img = await openImage(mem, { readOnly: true });
    expect(img.header.logOffset).toBe(grown.to.offset);
    expect(img.registry.overlaps()).toEqual([]);
    expect(img.registry.find(at)?.kind ?? "free").not.toBe("log");
    expect(same(await img.read(0, SIZE), model)).toBe(true);
  });

  it("refuses sizes the header cannot hold", async () => {
    const { bytes } = await base();
    const w = new VhdxWriter(await openImage(new MemoryBackend(bytes), { readOnly: false }));
    for (const bad of [0, MiB + 4096, MAX_LOG_LENGTH + MiB])
      await expect(resizeLog(w, bad)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("a commit too large for the log grows it first, and says so", async () => {
    const mem = new MemoryBackend();
    // 1 MiB blocks, 512 BAT entries per 4 KiB sector: one byte every 512 MiB touches a BAT sector each.
    const blocks = 300;
    await createImage(mem, { type: "dynamic", virtualSize: blocks * 512 * MiB, blockSize: MiB });
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
    const notices: string[] = [];
    w.notice = (m) => notices.push(m);
    const edits = Array.from({ length: blocks }, (_, i) => ({
      offset: i * 512 * MiB + 7,
      data: Uint8Array.of(i & 255 || 1),
    }));
    await commitPatch(w, edits);
    await w.finish();
    expect(notices.join()).toMatch(/the log was grown from 1 MiB to 2 MiB .*so that this patch fits one log entry/);
    const img = await openImage(mem, { readOnly: true });
    expect(img.header.logLength).toBe(2 * MiB);
    for (const e of edits) expect((await img.read(e.offset - 7, 8))[7]).toBe(e.data[0]);
  });

  for (const [name, length] of [
    ["moved to a larger region", 4 * MiB],
    ["shrunk in place", MiB],
  ] as const) {
    it(`a power cut at every write of a log ${name} leaves the old log or the new one`, async () => {
      let { bytes } = await base();
      const model = (await base()).model;
      if (length < 2 * MiB) {
        // Start from a 2 MiB log at the end of the file, so shrinking has something to give back.
        const mem = new MemoryBackend(bytes);
        const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
        await resizeLog(w, 2 * MiB);
        await w.finish();
        bytes = mem.bytes();
      }
      const before = await openImage(new MemoryBackend(bytes), { readOnly: true });
      const old = { offset: before.header.logOffset, length: before.header.logLength };
      const rec = new RecordingBackend(bytes);
      const w = new VhdxWriter(await openImage(rec, { readOnly: false }));
      const r = await resizeLog(w, length);
      await w.finish();
      expect(r.to.length).toBe(length);
      let olds = 0;
      let news = 0;
      const tried = await forEachCrash(bytes, rec.ops, 0, rec.ops.length, async (crash) => {
        const img = await openImage(new MemoryBackend(crash.bytes), { readOnly: false });
        const log = { offset: img.header.logOffset, length: img.header.logLength };
        if (log.offset === old.offset && log.length === old.length) olds++;
        else if (log.offset === r.to.offset && log.length === r.to.length) news++;
        else throw new Error(`crash after op ${crash.op} (${crash.variant}): log ${JSON.stringify(log)}`);
        expect(img.registry.overlaps()).toEqual([]);
        if (!same(await img.read(0, SIZE), model))
          throw new Error(`crash after op ${crash.op} (${crash.variant}): the virtual disk changed`);
        // The reopened image takes writes through whichever log it has.
        const w2 = new VhdxWriter(img);
        await w2.write(6 * MiB, pattern(9, 4096));
        await w2.finish();
      });
      expect(tried).toBeGreaterThan(3);
      expect(olds).toBeGreaterThan(0);
      expect(news).toBeGreaterThan(0);
    });
  }
});

describe.skipIf(crashShimUnavailable() !== undefined || !hasTool("qemu-img"))(
  "vhdx log --resize killed at its kill points (test/helpers/crash.ts killPoints)",
  () => {
    it("leaves an image qemu-img checks clean and reads as before, with the old log or the new", () => {
      const tmp = tempDir("vhdx-logresize-");
      try {
        const orig = tmp.path("orig.vhdx");
        runOk("qemu-img", ["create", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M,log_size=1M", orig, "64M"]);
        runOk("qemu-io", ["-c", "write -P 0x5a 0 3M", "-c", "write -P 0x33 40M 1M", orig]);
        qemuToRaw(orig, tmp.path("before.raw"));
        const expected = readFileSync(tmp.path("before.raw"));
        const img = tmp.path("img.vhdx");
        const args = [VHDX, "log", img, "--resize", "16M"];
        copyFileSync(orig, img);
        const { count, result, writes } = traceWrites(process.execPath, args);
        expect(result.exitCode).toBe(0);
        const sizes = new Set<string>();
        for (const n of [...killPoints(writes), count + 1]) {
          copyFileSync(orig, img);
          if (n <= count) expect(runKilledAt(process.execPath, args, n).killed).toBe(true);
          else runOk(process.execPath, args);
          const check = qemuCheck(img);
          if (check.status !== 0) throw new Error(`killed before write ${n} of ${count}: qemu-img check: ${check.out}`);
          qemuToRaw(img, tmp.path("after.raw"));
          if (!readFileSync(tmp.path("after.raw")).equals(expected))
            throw new Error(`killed before write ${n} of ${count}: qemu-img reads other bytes`);
          const info = runOk(process.execPath, [VHDX, "info", img]);
          sizes.add(/log\s+(\S+ \S+) at/.exec(info)![1]);
        }
        expect([...sizes].sort()).toEqual(["1 MiB", "16 MiB"]);
      } finally {
        tmp.cleanup();
      }
    });
  },
);
