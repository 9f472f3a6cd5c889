import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { isZeroGuid } from "../../src/vhdx/guid";
import { HEADER_OFFSETS } from "../../src/vhdx/header";
import { MemoryBackend, RandomAccess } from "../../src/vhdx/io";
import { HeaderUpdater } from "../../src/vhdx/log/headerUpdate";
import { replayLog } from "../../src/vhdx/log/replay";
import { scanLog } from "../../src/vhdx/log/search";
import { CommitInfo, LogWriter, MetadataUpdate } from "../../src/vhdx/log/writer";
import { FILE_SIZE, LOG_OFFSET, makeFile, sectorOf, TARGET, expectBytes } from "./builder";

class Stop extends Error {}

function updatesOf(n: number, seed: number, at = TARGET): MetadataUpdate[] {
  return Array.from({ length: n }, (_, i) => ({
    fileOffset: at + i * 4096,
    data: sectorOf((seed + i) & 0xff, seed + i),
  }));
}

/** Commits on one copy to the end, and on another stops after the log flush; replaying the second must give the first. */
async function commitBothWays(updates: MetadataUpdate[], logLength = MiB, prior: MetadataUpdate[][] = []) {
  const full = makeFile({ logLength });
  const torn = new MemoryBackend(full.io.bytes());
  const wFull = new LogWriter(await HeaderUpdater.load(full.io));
  let info: CommitInfo | undefined;
  const wTorn = new LogWriter(await HeaderUpdater.load(torn), {
    afterLogFlush: (i) => {
      if (i.sequenceNumber === BigInt(prior.length + 1)) {
        info = i;
        throw new Stop();
      }
    },
  });
  for (const p of prior) {
    await wFull.commit(p);
    await wTorn.commit(p);
  }
  await wFull.commit(updates);
  await expect(wTorn.commit(updates)).rejects.toBeInstanceOf(Stop);
  const header = (await HeaderUpdater.load(torn)).current;
  const scan = await scanLog(torn, header);
  return { full: full.io, torn, scan, info: info!, header };
}

describe("LogWriter (§2.3)", () => {
  it("one commit is one entry; replaying it where the writer stopped gives the committed file", async () => {
    const ups = [...updatesOf(3, 1), { fileOffset: TARGET + 5 * 4096, data: new Uint8Array(8192) }];
    const { full, torn, scan, info } = await commitBothWays(ups);
    expect(info).toMatchObject({
      dataDescriptors: 3,
      zeroDescriptors: 1,
      descriptorSectors: 1,
      entryLength: 4 * 4096,
      position: 0,
    });
    expect(scan.active!.entries.length).toBe(1);
    expect(scan.active!.entries[0].valid).toBe(true);
    expectBytes(await torn.read(TARGET, 4096), new Uint8Array(4096)); // not applied yet
    await replayLog(torn, scan);
    expectBytes(torn.bytes().subarray(LOG_OFFSET + 2 * MiB), full.bytes().subarray(LOG_OFFSET + 2 * MiB));
    expectBytes(await torn.read(TARGET + 4096, 4096), sectorOf(2, 2));
  });

  it("coalesces runs of all-zero sectors into one zero descriptor", async () => {
    const z = new Uint8Array(4096);
    const ups = [TARGET, TARGET + 4096, TARGET + 8192, TARGET + 20480].map((o) => ({ fileOffset: o, data: z }));
    const { scan } = await commitBothWays(ups);
    expect(scan.active!.entries[0].descriptors.map((d) => [d.type, d.fileOffset, d.length])).toEqual([
      ["zero", TARGET, 12288],
      ["zero", TARGET + 20480, 4096],
    ]);
  });

  it("writes the header with a fresh LogGuid before touching the log, then entry, flush, apply, flush", async () => {
    const f = makeFile();
    const events: string[] = [];
    const io: RandomAccess = {
      readOnly: false,
      read: (o, n) => f.io.read(o, n),
      write: async (o, d) => {
        events.push(
          o >= LOG_OFFSET && o < LOG_OFFSET + MiB ? "log" : HEADER_OFFSETS.includes(o as 65536) ? "header" : "apply",
        );
        await f.io.write(o, d);
      },
      flush: async () => void events.push("flush"),
      size: () => f.io.size(),
      truncate: (n) => f.io.truncate(n),
      close: async () => undefined,
    };
    const u = await HeaderUpdater.load(io);
    const old = u.current.logGuid;
    const w = new LogWriter(u, { afterLogFlush: () => void events.push("hook") });
    await w.commit(updatesOf(2, 9));
    // The header update's flush already made the file's size durable: no flush of its own before the entry.
    expect(events).toEqual(["header", "flush", "header", "flush", "log", "flush", "hook", "apply", "flush"]);
    expect(u.current.logGuid).not.toBe(old);
    expect(isZeroGuid(u.current.logGuid)).toBe(false);
  });

  it("numbers entries consecutively and wraps around the ring, an entry straddling its end", async () => {
    // 1 MiB ring = 256 sectors; commits of 100 data sectors take 101 sectors; the third wraps.
    const prior = [updatesOf(100, 1), updatesOf(100, 2)];
    const { full, torn, scan, info } = await commitBothWays(updatesOf(100, 3), MiB, prior);
    expect(info.sequenceNumber).toBe(3n);
    expect(info.position).toBe(202 * 4096);
    expect(info.position + info.entryLength).toBeGreaterThan(MiB);
    expect(scan.active!.headSequenceNumber).toBe(3n);
    expect(scan.active!.entries.map((e) => e.position)).toEqual([202 * 4096]);
    await replayLog(torn, scan);
    expectBytes(torn.bytes().subarray(LOG_OFFSET + 2 * MiB), full.bytes().subarray(LOG_OFFSET + 2 * MiB));
  });

  it("after wrapping, entries overwritten by newer ones vanish and stale whole ones are not replayed", async () => {
    // Sequence 3 wraps over sequence 1's place; sequence 4 follows it at sector 47.
    const prior = [updatesOf(100, 1), updatesOf(100, 2), updatesOf(100, 4)];
    const { full, torn, scan, info } = await commitBothWays(updatesOf(10, 5), MiB, prior);
    expect(info.position).toBe(47 * 4096);
    expect(scan.entries.map((e) => [e.position / 4096, e.sequenceNumber, e.valid])).toEqual([
      [47, 4n, true],
      [101, 2n, true],
      [202, 3n, true],
    ]);
    expect(scan.active!.entries.map((e) => e.sequenceNumber)).toEqual([4n]);
    await replayLog(torn, scan);
    expectBytes(torn.bytes().subarray(LOG_OFFSET + 2 * MiB), full.bytes().subarray(LOG_OFFSET + 2 * MiB));
  });

  it("continues into further descriptor sectors for a commit of more than 126 descriptors", async () => {
    const ups = Array.from({ length: 200 }, (_, i) => ({ fileOffset: 4 * MiB + i * 8192, data: sectorOf(i, i) }));
    const { full, torn, scan, info } = await commitBothWays(ups, 2 * MiB);
    expect(info.descriptorSectors).toBe(2);
    expect(scan.active!.entries[0].descriptorCount).toBe(200);
    await replayLog(torn, scan);
    expectBytes(await torn.read(4 * MiB, 2 * MiB), await full.read(4 * MiB, 2 * MiB));
  });

  it("states honest FlushedFileOffset and LastFileOffset", async () => {
    const beyond = FILE_SIZE + 2 * MiB + 4096;
    const f = makeFile();
    let info: CommitInfo | undefined;
    const w = new LogWriter(await HeaderUpdater.load(f.io), { afterLogFlush: (i) => void (info = i) });
    await w.commit([{ fileOffset: beyond, data: sectorOf(1) }]);
    expect(info!.flushedFileOffset).toBe(FILE_SIZE);
    expect(info!.lastFileOffset).toBe(FILE_SIZE + 3 * MiB);
    expect(await f.io.size()).toBe(FILE_SIZE + 3 * MiB);
    await w.commit(updatesOf(1, 1), { lastFileOffset: FILE_SIZE + 7 * MiB + 1 });
    expect(info!.flushedFileOffset).toBe(FILE_SIZE + 3 * MiB);
    expect(info!.lastFileOffset).toBe(FILE_SIZE + 8 * MiB);
  });

  it("throws LOG_FULL when one commit cannot fit the ring", async () => {
    const f = makeFile();
    const w = new LogWriter(await HeaderUpdater.load(f.io));
    await expect(w.commit(updatesOf(256, 1))).rejects.toMatchObject({ code: "LOG_FULL" });
  });

  it("refuses updates that are unaligned, in the header section or in the log", async () => {
    const f = makeFile();
    const w = new LogWriter(await HeaderUpdater.load(f.io));
    for (const u of [
      { fileOffset: TARGET + 1, data: new Uint8Array(4096) },
      { fileOffset: TARGET, data: new Uint8Array(100) },
      { fileOffset: HEADER_OFFSETS[0], data: new Uint8Array(4096) },
      { fileOffset: LOG_OFFSET + 4096, data: new Uint8Array(4096) },
    ]) {
      await expect(w.commit([u])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("marks the log empty when the session ends", async () => {
    const f = makeFile();
    const u = await HeaderUpdater.load(f.io);
    const w = new LogWriter(u);
    await w.commit(updatesOf(1, 1));
    await w.markLogEmpty();
    expect(isZeroGuid(u.current.logGuid)).toBe(true);
    expect((await scanLog(f.io, u.current)).needsReplay).toBe(false);
  });

  it("after an entry is logged but not applied, refuses further commits and keeps the log replayable", async () => {
    const f = makeFile();
    const u = await HeaderUpdater.load(f.io);
    let stop = true;
    const w = new LogWriter(u, {
      afterLogFlush: () => {
        if (stop) throw new Stop();
      },
    });
    await expect(w.commit(updatesOf(1, 1))).rejects.toBeInstanceOf(Stop);
    stop = false;
    await expect(w.commit(updatesOf(1, 2))).rejects.toMatchObject({ code: "LOG_NEEDS_REPLAY" });
    await w.markLogEmpty();
    expect(isZeroGuid(u.current.logGuid)).toBe(false);
    const s = await scanLog(f.io, u.current);
    expect(s.active!.headSequenceNumber).toBe(1n);
  });

  it("runs overlapping commit calls one after the other", async () => {
    const f = makeFile();
    const w = new LogWriter(await HeaderUpdater.load(f.io));
    const [a, b] = await Promise.all([w.commit(updatesOf(2, 1)), w.commit(updatesOf(2, 9))]);
    expect([a.sequenceNumber, b.sequenceNumber]).toEqual([1n, 2n]);
    expect(b.position).toBe(a.position + a.entryLength);
    expectBytes(await f.io.read(TARGET, 4096), sectorOf(9, 9));
  });
});
