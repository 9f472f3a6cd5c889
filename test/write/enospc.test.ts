/**
 * A disk that fills up while the log entry is written (ENOSPC on the log region, as a sparse log
 * on a full volume gives): the commit fails, nothing references the block staged for it, and that
 * block goes back in the same failure path: the file is as long as before, the image reads and
 * checks as before, and a retry once there is room reuses the space.
 */
import { describe, expect, it } from "vitest";
import { checkImage } from "../../src/vhdx/check";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend, type RandomAccess } from "../../src/vhdx/io";
import { commitPatch } from "../../src/vhdx/patch";
import { VhdxWriter } from "../../src/vhdx/write";
import { pattern } from "./helpers";

const MiB = 1 << 20;

/** MemoryBackend whose writes into [from, to) fail with ENOSPC while `full` is set. */
class FillingBackend implements RandomAccess {
  full = false;
  constructor(
    readonly inner: MemoryBackend,
    private readonly from: number,
    private readonly to: number,
  ) {}
  get readOnly(): boolean {
    return false;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(offset, length);
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.full && offset < this.to && offset + data.length > this.from) {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    }
    return this.inner.write(offset, data);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  size(): Promise<number> {
    return this.inner.size();
  }
  truncate(size: number): Promise<void> {
    return this.inner.truncate(size);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function setup(): Promise<{ io: FillingBackend; before: Uint8Array }> {
  const mem = new MemoryBackend();
  await createImage(mem, { type: "dynamic", virtualSize: 16 * MiB, blockSize: MiB });
  const probe = await openImage(new MemoryBackend(mem.bytes()));
  const { logOffset, logLength } = probe.header;
  await probe.close();
  return { io: new FillingBackend(mem, logOffset, logOffset + logLength), before: mem.bytes() };
}

async function expectUnchanged(io: FillingBackend, before: Uint8Array): Promise<void> {
  expect(await io.size()).toBe(before.length);
  const reopened = await openImage(new MemoryBackend(io.inner.bytes()));
  expect((await reopened.read(0, 4 * MiB)).every((b) => b === 0)).toBe(true);
  // The session is still open: its LogGuid is set with no entry behind it, which is what a writer
  // stopped here leaves (an empty log, §2.3.3); nothing else may differ from a clean image.
  const report = await checkImage(new MemoryBackend(io.inner.bytes()));
  expect(report.findings.filter((f) => f.severity !== "info" && f.code !== "LOG_NO_VALID_SEQUENCE")).toEqual([]);
}

async function expectClean(io: FillingBackend): Promise<void> {
  const report = await checkImage(new MemoryBackend(io.inner.bytes()));
  expect(report.findings.filter((f) => f.severity !== "info")).toEqual([]);
}

describe("ENOSPC while the log entry is written", () => {
  it("a plain write gives its staged block back: the file keeps its length, a retry reuses the space", async () => {
    const { io, before } = await setup();
    const w = new VhdxWriter(await openImage(io, { readOnly: false }));
    io.full = true;
    const err = (await w.write(MiB + 100, pattern(1, 5000)).catch((e) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe("ENOSPC");
    await expectUnchanged(io, before);
    io.full = false;
    await w.write(MiB + 100, pattern(1, 5000));
    await w.finish();
    expect(await io.size()).toBe(before.length + MiB);
    await expectClean(io);
    const reopened = await openImage(new MemoryBackend(io.inner.bytes()));
    expect(Buffer.from(await reopened.read(MiB + 100, 5000)).equals(Buffer.from(pattern(1, 5000)))).toBe(true);
  });

  it("an atomic patch does the same", async () => {
    const { io, before } = await setup();
    const w = new VhdxWriter(await openImage(io, { readOnly: false }));
    io.full = true;
    const edits = [{ offset: 3 * MiB, data: pattern(2, 3 * MiB) }];
    const err = (await commitPatch(w, edits).catch((e) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe("ENOSPC");
    await expectUnchanged(io, before);
    io.full = false;
    await commitPatch(w, edits);
    await w.finish();
    expect(await io.size()).toBe(before.length + 3 * MiB);
    await expectClean(io);
    const reopened = await openImage(new MemoryBackend(io.inner.bytes()));
    expect(Buffer.from(await reopened.read(3 * MiB, 3 * MiB)).equals(Buffer.from(edits[0].data))).toBe(true);
  });
});
