import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { crc32cWithZeroField } from "../../src/vhdx/crc32c";
import { writeGuid } from "../../src/vhdx/guid";
import { LOG_SECTOR_SIZE } from "../../src/vhdx/log/entry";
import { replayLog } from "../../src/vhdx/log/replay";
import { scanLog } from "../../src/vhdx/log/search";
import { chain, dataUpdate, LOG_GUID, LOG_OFFSET, makeFile, TARGET } from "./builder";

describe("hostile logs", () => {
  it("every position claiming a whole-ring entry with a bad checksum: the scan ends and finds nothing", async () => {
    const f = makeFile();
    const sector = new Uint8Array(LOG_SECTOR_SIZE);
    const dv = new DataView(sector.buffer);
    sector.set([0x6c, 0x6f, 0x67, 0x65]);
    dv.setUint32(8, MiB, true);
    dv.setBigUint64(16, 1n, true);
    writeGuid(sector, 32, LOG_GUID);
    for (let p = 0; p < MiB; p += LOG_SECTOR_SIZE) await f.io.write(LOG_OFFSET + p, sector);
    const s = await scanLog(f.io, f.header);
    expect(s.entries.length).toBe(256);
    expect(s.entries.every((e) => !e.valid)).toBe(true);
    expect(s.active).toBeNull();
  });

  it("a self-consistent entry at every position (each a valid one-sector entry) replays only the highest", async () => {
    const f = makeFile();
    for (let p = 0; p < MiB; p += LOG_SECTOR_SIZE) {
      const sector = new Uint8Array(LOG_SECTOR_SIZE);
      const dv = new DataView(sector.buffer);
      sector.set([0x6c, 0x6f, 0x67, 0x65]);
      dv.setUint32(8, LOG_SECTOR_SIZE, true);
      dv.setUint32(12, p, true);
      // Sequence numbers run backwards so no two neighbours chain.
      dv.setBigUint64(16, BigInt(1000 - p / LOG_SECTOR_SIZE), true);
      writeGuid(sector, 32, LOG_GUID);
      dv.setUint32(4, crc32cWithZeroField(sector, 4), true);
      await f.io.write(LOG_OFFSET + p, sector);
    }
    const s = await scanLog(f.io, f.header);
    expect(s.entries.every((e) => e.valid)).toBe(true);
    expect(s.active!.entries.map((e) => e.position)).toEqual([0]);
    expect(s.active!.headSequenceNumber).toBe(1000n);
  });

  it("random damage to a valid log never throws and never replays an invalid entry", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(64 * 1024 - 1), value: fc.nat(255) }), { minLength: 1, maxLength: 12 }),
        async (flips) => {
          const f = makeFile();
          await chain(f, 0, 3n, [
            { updates: [dataUpdate(TARGET, 1), dataUpdate(TARGET + 4096, 2)] },
            { updates: [{ kind: "zero", fileOffset: TARGET + 8192, length: 8192 }] },
            { updates: [dataUpdate(TARGET + 16384, 3)] },
          ]);
          for (const { at, value } of flips) await f.io.write(LOG_OFFSET + at, new Uint8Array([value]));
          const s = await scanLog(f.io, f.header);
          if (s.active) {
            expect(s.active.entries.every((e) => e.valid)).toBe(true);
            await replayLog(f.io, s);
          } else {
            expect(s.warning).not.toBeNull();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
