import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { isZeroGuid } from "../../src/vhdx/guid";
import { MemoryBackend } from "../../src/vhdx/io";
import { parseHeader } from "../../src/vhdx/header";
import { HeaderUpdater } from "../../src/vhdx/log/headerUpdate";
import { OverlayBackend } from "../../src/vhdx/log/overlay";
import { replayLog, replayLogInPlace, replayPreview } from "../../src/vhdx/log/replay";
import { scanLog } from "../../src/vhdx/log/search";
import { chain, dataUpdate, FILE_SIZE, makeFile, put, sectorOf, TARGET, zeroUpdate, expectBytes } from "./builder";

async function fill(io: MemoryBackend, at: number, n: number, byte: number) {
  await io.write(at, new Uint8Array(n).fill(byte));
}

describe("log replay (§2.3.3)", () => {
  it("writes each descriptor in order from the tail: data restored, zeros zeroed, later entries last", async () => {
    const f = makeFile();
    await fill(f.io, TARGET, 64 * 1024, 0xee);
    await chain(f, 0, 1n, [
      { updates: [dataUpdate(TARGET, 0x11), dataUpdate(TARGET + 4096, 0x22)] },
      { updates: [dataUpdate(TARGET + 4096, 0x33), zeroUpdate(TARGET + 8192, 8192)] },
    ]);
    const scan = await scanLog(f.io, f.header);
    const r = await replayLog(f.io, scan);
    expect(r).toMatchObject({ entries: 2, descriptors: 4 });
    expectBytes(await f.io.read(TARGET, 4096), sectorOf(0x11, TARGET >>> 12));
    expectBytes(await f.io.read(TARGET + 4096, 4096), sectorOf(0x33, (TARGET + 4096) >>> 12));
    expectBytes(await f.io.read(TARGET + 8192, 8192), new Uint8Array(8192));
    expect((await f.io.read(TARGET + 16384, 1))[0]).toBe(0xee);
    expect(f.io.flushes).toBeGreaterThan(0);
  });

  it("grows the file for descriptors past its end and then to the head's LastFileOffset", async () => {
    const f = makeFile();
    await put(f, 0, {
      sequenceNumber: 1n,
      updates: [dataUpdate(FILE_SIZE + MiB, 0x44), zeroUpdate(FILE_SIZE + 3 * MiB, 4096)],
      lastFileOffset: 10 * MiB,
    });
    const scan = await scanLog(f.io, f.header);
    const r = await replayLog(f.io, scan);
    expect(r.sizeAfter).toBe(10 * MiB);
    expect((await f.io.read(FILE_SIZE + MiB + 100, 1))[0]).toBe(0x44);
  });

  it("refuses a file shorter than the head's FlushedFileOffset, writing nothing", async () => {
    const f = makeFile();
    await put(f, 0, { sequenceNumber: 1n, flushedFileOffset: 8 * MiB });
    const scan = await scanLog(f.io, f.header);
    const before = f.io.bytes();
    await expect(replayLog(f.io, scan)).rejects.toMatchObject({ code: "LOG_FILE_TRUNCATED" });
    const u = await HeaderUpdater.load(f.io);
    await expect(replayLogInPlace(u, scan)).rejects.toMatchObject({ code: "LOG_FILE_TRUNCATED" });
    expectBytes(f.io.bytes(), before);
  });

  it("replays into an overlay for a read-only view without touching the file", async () => {
    const f = makeFile();
    await put(f, 0, { sequenceNumber: 1n, updates: [dataUpdate(TARGET, 0x55)], lastFileOffset: 6 * MiB });
    const ro = new MemoryBackend(f.io.bytes(), { readOnly: true });
    const scan = await scanLog(ro, f.header);
    const overlay = await OverlayBackend.over(ro);
    await replayLog(overlay, scan);
    overlay.freeze();
    expectBytes(await overlay.read(TARGET, 4096), sectorOf(0x55, TARGET >>> 12));
    expect(await overlay.size()).toBe(6 * MiB);
    expectBytes(ro.bytes(), f.io.bytes());
  });

  it("previews the ranges a replay changes with their bytes before and after", async () => {
    const f = makeFile();
    await fill(f.io, TARGET, 4096, 0xab);
    await put(f, 0, {
      sequenceNumber: 1n,
      updates: [dataUpdate(TARGET, 0x66), zeroUpdate(TARGET + 8192, 4096)],
      lastFileOffset: 5 * MiB,
    });
    const scan = await scanLog(f.io, f.header);
    const before = f.io.bytes();
    const p = await replayPreview(f.io, scan);
    expectBytes(f.io.bytes(), before);
    expect(p.map((i) => [i.kind, i.fileOffset, i.length])).toEqual([
      ["write", TARGET, 4096],
      ["write", TARGET + 8192, 4096],
      ["grow", FILE_SIZE, MiB],
    ]);
    expect(p[0].before[100]).toBe(0xab);
    expectBytes(p[0].after, sectorOf(0x66, TARGET >>> 12));
  });

  it("in place: fresh FileWriteGuid first, replay, then LogGuid zero; a rescan finds nothing to replay", async () => {
    const f = makeFile();
    await put(f, 0, { sequenceNumber: 1n, updates: [dataUpdate(TARGET, 0x77)] });
    const u = await HeaderUpdater.load(f.io);
    const fwg = u.current.fileWriteGuid;
    const scan = await scanLog(f.io, u.current);
    await replayLogInPlace(u, scan);
    const again = await HeaderUpdater.load(f.io);
    expect(again.current.fileWriteGuid).not.toBe(fwg);
    expect(isZeroGuid(again.current.logGuid)).toBe(true);
    expect((await scanLog(f.io, again.current)).needsReplay).toBe(false);
    expectBytes(await f.io.read(TARGET, 4096), sectorOf(0x77, TARGET >>> 12));
  });

  it("in place costs four flushes: one header pass, the replay, then both slots marked empty", async () => {
    const f = makeFile();
    await put(f, 0, { sequenceNumber: 1n, updates: [dataUpdate(TARGET, 0x78)] });
    const u = await HeaderUpdater.load(f.io);
    const before = u.current.sequenceNumber;
    const scan = await scanLog(f.io, u.current);
    const written: number[] = [];
    const write = f.io.write.bind(f.io);
    f.io.write = async (offset, data) => {
      written.push(offset);
      return write(offset, data);
    };
    const flushesBefore = f.io.flushes;
    await replayLogInPlace(u, scan);
    expect(f.io.flushes - flushesBefore).toBe(4);
    // §2.2.2.1: a header slot is written before anything else, and both slots end up current.
    expect(written[0]).toBeGreaterThanOrEqual(64 * 1024);
    expect(written[0]).toBeLessThan(192 * 1024);
    expect(written.filter((o) => o < 192 * 1024)).toHaveLength(3);
    const slots = [64 * 1024, 128 * 1024].map(async (at) => parseHeader(await f.io.read(at, 4096)));
    const [a, b] = await Promise.all(slots);
    expect([a.sequenceNumber, b.sequenceNumber].sort()).toEqual([before + 2n, before + 3n]);
    expect(isZeroGuid(a.logGuid) && isZeroGuid(b.logGuid)).toBe(true);
    expect(a.fileWriteGuid).toBe(b.fileWriteGuid);
  });

  it("in place with LogGuid set but no valid sequence: only marks the log empty", async () => {
    const f = makeFile();
    await put(f, 0, { sequenceNumber: 1n, defect: "checksum" });
    const u = await HeaderUpdater.load(f.io);
    const scan = await scanLog(f.io, u.current);
    expect(scan.warning).not.toBeNull();
    const r = await replayLogInPlace(u, scan);
    expect(r.descriptors).toBe(0);
    expect(isZeroGuid((await HeaderUpdater.load(f.io)).current.logGuid)).toBe(true);
    expect((await f.io.read(TARGET, 1))[0]).toBe(0);
  });
});
