import { describe, expect, it } from "vitest";
import { checkHeaderSlot, chooseCurrentHeader, HEADER_OFFSETS } from "../../src/vhdx/header";
import { MemoryBackend, RandomAccess } from "../../src/vhdx/io";
import { isZeroGuid, ZERO_GUID } from "../../src/vhdx/guid";
import { HeaderUpdater } from "../../src/vhdx/log/headerUpdate";
import { makeFile } from "./builder";

/** Records every write and flush, in order. */
class Recorder {
  events: string[] = [];
  constructor(readonly inner: MemoryBackend) {}
  wrap(): RandomAccess {
    const { inner, events } = this;
    return {
      readOnly: false,
      read: (o, n) => inner.read(o, n),
      write: async (o, d) => {
        events.push(`write ${o} ${d.length}`);
        await inner.write(o, d);
      },
      flush: async () => {
        events.push("flush");
      },
      size: () => inner.size(),
      truncate: (n) => inner.truncate(n),
      close: async () => undefined,
    };
  }
}

async function slots(io: RandomAccess) {
  return Promise.all([0, 1].map(async (i) => checkHeaderSlot(await io.read(HEADER_OFFSETS[i], 4096), i as 0 | 1)));
}

describe("header updates (§2.2.2.1)", () => {
  it("loads the current header: the valid one with the greater SequenceNumber", async () => {
    const f = makeFile();
    const u = await HeaderUpdater.load(f.io);
    expect(u.currentIndex).toBe(1);
    expect(u.current.sequenceNumber).toBe(5n);
  });

  it("writes the non-current slot with SequenceNumber + 1 and flushes, then the other slot", async () => {
    const f = makeFile();
    const rec = new Recorder(f.io);
    const u = await HeaderUpdater.load(rec.wrap());
    const before = u.current;
    const h = await u.update();
    expect(rec.events).toEqual([
      `write ${HEADER_OFFSETS[0]} 4096`,
      "flush",
      `write ${HEADER_OFFSETS[1]} 4096`,
      "flush",
    ]);
    const s = await slots(f.io);
    expect(s.map((x) => x.valid)).toEqual([true, true]);
    expect(s[0].header!.sequenceNumber).toBe(6n);
    expect(s[1].header!.sequenceNumber).toBe(7n);
    expect(chooseCurrentHeader(s)).toBe(1);
    expect(h.sequenceNumber).toBe(7n);
    // First update of the session: a fresh FileWriteGuid, in both slots; the others are kept.
    expect(h.fileWriteGuid).not.toBe(before.fileWriteGuid);
    expect(s[0].header!.fileWriteGuid).toBe(h.fileWriteGuid);
    expect(h.dataWriteGuid).toBe(before.dataWriteGuid);
    expect(h.logGuid).toBe(before.logGuid);
    expect(rec.events.every((e) => e === "flush" || Number(e.split(" ")[1]) >= 64 * 1024)).toBe(true);
  });

  it("keeps FileWriteGuid for later updates of the same session", async () => {
    const f = makeFile();
    const u = await HeaderUpdater.load(f.io);
    const a = await u.update();
    const b = await u.update({ logGuid: ZERO_GUID });
    expect(b.fileWriteGuid).toBe(a.fileWriteGuid);
    expect(isZeroGuid(b.logGuid)).toBe(true);
    const again = await HeaderUpdater.load(f.io);
    expect(again.current.logGuid).toBe(ZERO_GUID);
    expect((await again.update()).fileWriteGuid).not.toBe(a.fileWriteGuid);
  });

  it("renews DataWriteGuid once per session when asked, and LogGuid before the log is written", async () => {
    const f = makeFile({ logGuid: ZERO_GUID });
    const u = await HeaderUpdater.load(f.io);
    const d0 = u.current.dataWriteGuid;
    await u.beginDataWrite();
    const d1 = u.current.dataWriteGuid;
    expect(d1).not.toBe(d0);
    await u.beginDataWrite();
    expect(u.current.dataWriteGuid).toBe(d1);
    const g = await u.beginLogWrite();
    expect(isZeroGuid(g)).toBe(false);
    expect(await u.beginLogWrite()).toBe(g);
    await u.update({ logGuid: ZERO_GUID });
    const g2 = await u.beginLogWrite();
    expect(isZeroGuid(g2)).toBe(false);
    expect(g2).not.toBe(g);
  });

  it("survives one slot being corrupt: the update goes to the broken slot first", async () => {
    const f = makeFile();
    await f.io.write(HEADER_OFFSETS[0] + 100, new Uint8Array([1, 2, 3]));
    const u = await HeaderUpdater.load(f.io);
    expect(u.currentIndex).toBe(1);
    await u.update();
    const s = await slots(f.io);
    expect(s.map((x) => x.valid)).toEqual([true, true]);
  });

  it("refuses to write a read-only backend", async () => {
    const f = makeFile();
    const ro = new MemoryBackend(f.io.bytes(), { readOnly: true });
    const u = await HeaderUpdater.load(ro);
    await expect(u.update()).rejects.toMatchObject({ code: "READ_ONLY" });
  });
});
