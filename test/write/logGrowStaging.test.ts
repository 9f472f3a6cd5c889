/**
 * A streamed write from a pipe whose switch outgrows the log grows it mid-stream
 * (growLogWhileStaging): the new log goes past the blocks staged so far, blocks staged afterwards
 * avoid both, and a failure after the growth keeps the grown log. Checked against qemu-img's check
 * and its reading of the result. (Outgrowing a 1 MiB log through a real pipe takes gigabytes of
 * input; the growth is driven here at the point commitStreamPatch calls it.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { growLogWhileStaging } from "../../src/vhdx/logResize";
import { VhdxWriter } from "../../src/vhdx/write";
import { hasTool, pattern, qemuCheck, qemuToRaw, tempDir } from "./helpers";

const MiB = 1024 * 1024;
const tmp = tempDir("vhdx-loggrow-");
afterAll(() => tmp.cleanup());

interface Range {
  start: number;
  length: number;
}
const overlaps = (a: Range, b: Range) => a.start < b.start + b.length && b.start < a.start + a.length;

async function setup(name: string): Promise<{ path: string; w: VhdxWriter; model: Uint8Array }> {
  const path = tmp.path(name);
  const f = await NodeFileBackend.open(path, { create: "overwrite" });
  await createImage(f, { type: "dynamic", virtualSize: 64 * MiB, blockSize: MiB });
  const w = new VhdxWriter(await openImage(f, { readOnly: false }));
  const model = new Uint8Array(64 * MiB);
  model.set(pattern(1, 2 * MiB));
  await w.write(0, pattern(1, 2 * MiB));
  return { path, w, model };
}

describe.skipIf(!hasTool("qemu-img"))("growLogWhileStaging", () => {
  it("grows the log past the staged blocks; later blocks avoid both; one commit switches them all", async () => {
    const { path, w, model } = await setup("grow.vhdx");
    const notices: string[] = [];
    w.notice = (m) => notices.push(m);
    const logBefore = { start: w.image.header.logOffset, length: w.image.header.logLength };
    expect(logBefore.length).toBe(MiB);
    await w.mutex.run(() =>
      w.staging(async (staged, commit) => {
        await w.beginFileWrite();
        for (const b of [1, 2, 3]) {
          await w.stageBlock(staged, b, [{ inBlock: 0, data: pattern(10 + b, MiB) }], true);
          model.set(pattern(10 + b, MiB), b * MiB);
        }
        const early = staged.allocated.map((a) => ({ ...a }));
        // 400 metadata sectors: more than a 1 MiB log's one entry holds.
        await growLogWhileStaging(w, 400, "the test's input");
        const log = { start: w.image.header.logOffset, length: w.image.header.logLength };
        expect(log.length).toBe(2 * MiB);
        for (const a of early) expect(overlaps(a, log), `staged ${a.start} vs log ${log.start}`).toBe(false);
        for (const b of [7, 8]) {
          await w.stageBlock(staged, b, [{ inBlock: 4096, data: pattern(20 + b, 8192) }], true);
          model.set(pattern(20 + b, 8192), b * MiB + 4096);
        }
        const all = staged.allocated;
        for (const a of all) expect(overlaps(a, log)).toBe(false);
        for (let i = 0; i < all.length; i++)
          for (let j = i + 1; j < all.length; j++) expect(overlaps(all[i], all[j])).toBe(false);
        await w.beginDataWrite();
        await commit();
      }),
    );
    await w.close();
    expect(notices.join("\n")).toMatch(/the log was grown from 1 MiB to 2 MiB/);
    const back = await openImage(await NodeFileBackend.open(path));
    expect(back.header.logLength).toBe(2 * MiB);
    expect(Buffer.from(await back.read(0, model.length)).equals(Buffer.from(model))).toBe(true);
    await back.close();
    expect(qemuCheck(path).out).toMatch(/No errors were found/);
    qemuToRaw(path, tmp.path("grow.raw"));
    expect(readFileSync(tmp.path("grow.raw")).equals(Buffer.from(model))).toBe(true);
  });

  it("a failure after the growth abandons the staged blocks and keeps the grown log", async () => {
    const { path, w, model } = await setup("fail.vhdx");
    await expect(
      w.mutex.run(() =>
        w.staging(async (staged) => {
          await w.beginFileWrite();
          await w.stageBlock(staged, 5, [{ inBlock: 0, data: pattern(5, MiB) }], true);
          await growLogWhileStaging(w, 400, "the test's input");
          await w.stageBlock(staged, 6, [{ inBlock: 0, data: pattern(6, MiB) }], true);
          throw new Error("the input fails");
        }),
      ),
    ).rejects.toThrow("the input fails");
    const h = w.image.header;
    await w.close();
    const back = await openImage(await NodeFileBackend.open(path));
    expect(back.header.logLength).toBe(2 * MiB);
    expect(await back.file.size()).toBeGreaterThanOrEqual(h.logOffset + h.logLength);
    expect(Buffer.from(await back.read(0, model.length)).equals(Buffer.from(model))).toBe(true);
    await back.close();
    expect(qemuCheck(path).out).toMatch(/No errors were found/);
  });
});
