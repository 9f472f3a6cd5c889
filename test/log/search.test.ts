import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxError } from "../../src/vhdx/errors";
import { scanLog } from "../../src/vhdx/log/search";
import { entryUpdates, EntryUpdate } from "../../src/vhdx/log/updates";
import { chain, dataUpdate, LOG_GUID, makeFile, put, TARGET, ZERO_GUID } from "./builder";

const positions = (s: Awaited<ReturnType<typeof scanLog>>) => s.active?.entries.map((e) => e.position);
const seqs = (s: Awaited<ReturnType<typeof scanLog>>) => s.active?.entries.map((e) => e.sequenceNumber);

describe("active sequence search (§2.3.3 steps 1–7)", () => {
  it("LogGuid set but the ring holds nothing: no active sequence, a warning, no replay", async () => {
    const f = makeFile();
    const s = await scanLog(f.io, f.header);
    expect(s.active).toBeNull();
    expect(s.needsReplay).toBe(false);
    expect(s.warning).toMatch(/LogGuid .* is set but the log holds no valid entry sequence/);
  });

  it("LogGuid zero: the log is empty whatever it holds, yet its entries are listed", async () => {
    const f = makeFile({ logGuid: ZERO_GUID });
    await put(f, 0, { sequenceNumber: 1n });
    const s = await scanLog(f.io, f.header);
    expect(s.active).toBeNull();
    expect(s.needsReplay).toBe(false);
    expect(s.warning).toBeNull();
    expect(s.entries.length).toBe(1);
    expect(s.entries[0].logGuidMatch).toBe(false);
  });

  it("finds a single self-tailed entry", async () => {
    const f = makeFile();
    await put(f, 8192, { sequenceNumber: 4n });
    const s = await scanLog(f.io, f.header);
    expect(s.needsReplay).toBe(true);
    expect(positions(s)).toEqual([8192]);
    expect(s.active!.headSequenceNumber).toBe(4n);
    expect(s.active!.tail).toBe(8192);
    expect(s.active!.head).toBe(8192);
    expect(s.active!.flushedFileOffset).toBe(4 * MiB);
  });

  it("replays a chain tail first", async () => {
    const f = makeFile();
    const p = await chain(f, 0, 10n, [{}, { updates: [dataUpdate(TARGET, 2), dataUpdate(TARGET + 4096, 3)] }, {}]);
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual(p);
    expect(seqs(s)).toEqual([10n, 11n, 12n]);
  });

  it("starts the replay at the head's tail: entries before it were already applied", async () => {
    const f = makeFile();
    const p = await chain(f, 0, 10n, [{}, {}, {}], 8192);
    expect(p[1]).toBe(8192);
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual([p[1], p[2]]);
    expect(s.active!.tail).toBe(p[1]);
  });

  it("wraps between entries at the end of the ring", async () => {
    const f = makeFile();
    const start = MiB - 2 * 4096;
    const p = await chain(f, start, 20n, [{}, {}, {}]);
    expect(p).toEqual([start, 0, 8192]);
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual(p);
    expect(s.active!.tail).toBe(start);
    expect(s.active!.head).toBe(8192);
  });

  it("wraps inside one entry", async () => {
    const f = makeFile();
    const start = MiB - 4096;
    const updates = [dataUpdate(TARGET, 1), dataUpdate(TARGET + 4096, 2)];
    const p = await chain(f, start, 30n, [{ updates }, {}]);
    expect(p[1]).toBe(2 * 4096);
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual(p);
    expect(s.active!.entries[0].descriptors.map((d) => d.dataSectorPosition)).toEqual([0, 4096]);
  });

  it("ignores a stale older sequence, wherever it lies", async () => {
    for (const [oldAt, newAt] of [
      [0, 64 * 1024],
      [64 * 1024, 0],
    ]) {
      const f = makeFile();
      await chain(f, oldAt, 1n, [{}, {}]);
      const p = await chain(f, newAt, 50n, [{}, {}]);
      const s = await scanLog(f.io, f.header);
      expect(positions(s)).toEqual(p);
      expect(s.active!.headSequenceNumber).toBe(51n);
    }
  });

  it("ignores newer-numbered entries written under another LogGuid", async () => {
    const f = makeFile();
    const p = await chain(f, 0, 5n, [{}]);
    await put(f, 32768, { sequenceNumber: 99n, logGuid: "99999999-9999-4999-8999-999999999999" });
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual(p);
    expect(s.entries.find((e) => e.position === 32768)!.reason).toMatch(/LogGuid/);
  });

  it("drops a torn head: the sequence ends at the last whole entry", async () => {
    const f = makeFile();
    const p = await chain(f, 0, 5n, [{}, {}, { defect: "checksum" }]);
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual([p[0], p[1]]);
    expect(s.active!.headSequenceNumber).toBe(6n);
  });

  it("a torn head whose data sector carries the wrong sequence number does not leak into the replay", async () => {
    const f = makeFile();
    const p = await chain(f, 0, 5n, [{}, { defect: "sequenceLow" }]);
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual([p[0]]);
  });

  it("rejects a sequence whose head's tail lies outside it", async () => {
    const f = makeFile();
    // The head claims its tail is an entry at 512 KiB that does not exist.
    await chain(f, 0, 5n, [{}, {}], 512 * 1024);
    const s = await scanLog(f.io, f.header);
    expect(s.active).toBeNull();
    expect(s.warning).not.toBeNull();
  });

  it("a tail pointing inside an entry of the sequence, not at its start, is outside the sequence", async () => {
    const f = makeFile();
    await chain(f, 0, 5n, [{}, {}], 4096);
    const s = await scanLog(f.io, f.header);
    expect(s.active).toBeNull();
  });

  it("two competing valid sequences: the higher head sequence number wins, in either ring order", async () => {
    for (const flip of [false, true]) {
      const f = makeFile();
      const a = await chain(f, flip ? 200 * 1024 : 0, 100n, [{}, {}, {}]);
      const b = await chain(f, flip ? 0 : 200 * 1024, 101n, [{}, {}, {}]);
      const s = await scanLog(f.io, f.header);
      expect(s.active!.headSequenceNumber).toBe(103n);
      expect(positions(s)).toEqual(b);
      expect(a).not.toEqual(b);
    }
  });

  it("non-consecutive numbers split a run: the later self-tailed entry wins", async () => {
    const f = makeFile();
    await put(f, 0, { sequenceNumber: 5n });
    await put(f, 8192, { sequenceNumber: 7n, tail: 8192 });
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual([8192]);
  });

  it("non-consecutive numbers: a head whose tail lies before the gap has no valid sequence", async () => {
    const f = makeFile();
    await put(f, 0, { sequenceNumber: 5n });
    await put(f, 8192, { sequenceNumber: 7n, tail: 0 });
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual([0]);
    expect(s.active!.headSequenceNumber).toBe(5n);
  });

  it("reads a multi-sector descriptor list in the active sequence", async () => {
    const f = makeFile();
    const updates = Array.from({ length: 200 }, (_, i) => dataUpdate(TARGET + i * 4096, i));
    const p = await chain(f, 4096, 8n, [{ updates }, {}]);
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual(p);
    expect(s.active!.entries[0].descriptors.length).toBe(200);
    const updates199: EntryUpdate[] = [];
    for await (const u of entryUpdates(
      s.ring!,
      s.active!.positions[0],
      s.active!.tailSequenceNumber,
      f.header.logOffset,
    ))
      updates199.push(u);
    expect(updates199.length).toBe(200);
    const last = updates199[199];
    expect(last.kind === "data" && last.fileOffset === TARGET + 199 * 4096 && last.data[100]).toBe(199);
  });

  it("a sequence filling the ring exactly, head wrapping onto its own start, ends the scan", async () => {
    const f = makeFile();
    const updates = Array.from({ length: 127 }, (_, i) => dataUpdate(TARGET + i * 4096, i)); // 129 sectors
    const specs = [{ updates }, { updates: Array.from({ length: 125 }, (_, i) => dataUpdate(TARGET + i * 4096, i)) }];
    // 2 entries of 129 and 126 sectors = 255 sectors; one more 1-sector zero-only entry fills 256.
    const p = await chain(f, 0, 1n, [...specs, { updates: [{ kind: "zero", fileOffset: TARGET, length: 4096 }] }], 0);
    expect(p).toEqual([0, 129 * 4096, 255 * 4096]);
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual(p);
  });

  it("clamps a log that runs past the end of the file", async () => {
    const f = makeFile({ logLength: 64 * MiB, size: 3 * MiB });
    await put(f, 0, { sequenceNumber: 3n, updates: [dataUpdate(70 * MiB, 1)] });
    const s = await scanLog(f.io, f.header);
    expect(positions(s)).toEqual([0]);
  });

  it("refuses a non-zero LogVersion when there is a log to replay", async () => {
    const f = makeFile();
    await expect(scanLog(f.io, { ...f.header, logVersion: 1 })).rejects.toBeInstanceOf(VhdxError);
    const g = makeFile({ logGuid: ZERO_GUID });
    await expect(scanLog(g.io, { ...g.header, logVersion: 1 })).resolves.toBeTruthy();
  });

  it("lists every entry found with its verdict", async () => {
    const f = makeFile();
    await put(f, 0, { sequenceNumber: 1n, defect: "checksum" });
    await put(f, 16384, { sequenceNumber: 2n });
    const s = await scanLog(f.io, f.header);
    expect(s.entries.map((e) => [e.position, e.valid])).toEqual([
      [0, false],
      [16384, true],
    ]);
    expect(s.entries[0].checksumOk).toBe(false);
    expect(LOG_GUID).toBe(f.header.logGuid);
  });
});
