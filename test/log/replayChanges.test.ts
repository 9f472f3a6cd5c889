/**
 * The decoded replay preview against what a replay really does: the log is replayed in place
 * (replayLogInPlace) on a copy, the replayed BAT is read back with a DataView of its own (not the
 * decoder's code), and every entry that differs must be listed with its before and after states.
 * Hand-built logs (buildImage + withPendingLog) and QEMU's own dirty logs (qemu-io killed before
 * a write, as the log interop test makes them).
 */
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { HeaderUpdater, replayLogInPlace, scanLog } from "../../src/vhdx/log";
import { logReport, type LogReport } from "../../src/vhdx/logReport";
import { describeReplayChange } from "../../src/vhdx/replayChanges";
import { buildImage, withPendingLog } from "../helpers/buildImage";
import { countWrites, crashShimUnavailable, runKilledAt } from "../helpers/crash";
import { missingTools } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";
import { execFileSync } from "node:child_process";

const MiB = 1024 * 1024;
const STATES: Record<number, string> = {
  0: "NOT_PRESENT",
  2: "ZERO",
  3: "UNMAPPED",
  6: "FULLY_PRESENT",
  7: "PARTIALLY_PRESENT",
};

/** BAT entries as (state, file offset) read straight from bytes: §2.5.1 bits 0–2 and 20–63. */
function batEntries(bytes: Uint8Array, offset: number, count: number): { state: number; fileOffset: number }[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 8);
  const out = [];
  for (let i = 0; i < count; i++) {
    const lo = dv.getUint32(i * 8, true);
    const hi = dv.getUint32(i * 8 + 4, true);
    out.push({ state: lo & 7, fileOffset: (hi * 2 ** 12 + (lo >>> 20)) * MiB });
  }
  return out;
}

/** Replays `bytes` in place (a copy) and returns the file as replayed. */
async function replayed(bytes: Uint8Array): Promise<Uint8Array> {
  const io = new MemoryBackend(bytes.slice());
  const u = await HeaderUpdater.load(io);
  await replayLogInPlace(u, await scanLog(io, u.current));
  return io.read(0, await io.size());
}

/** Every BAT entry that differs between the two files is in the report, with the right states. */
function expectBatChanges(report: LogReport, before: Uint8Array, after: Uint8Array, batOffset: number, n: number) {
  const b = batEntries(before, batOffset, n);
  const a = batEntries(after, batOffset, n);
  const want = b.flatMap((e, i) =>
    e.state !== a[i].state || e.fileOffset !== a[i].fileOffset ? [{ entry: i, before: e, after: a[i] }] : [],
  );
  const got = report.changes.changes.flatMap((c) =>
    c.kind === "bat"
      ? [
          {
            entry: c.entry,
            before: { state: c.before.state, fileOffset: c.before.fileOffset },
            after: { state: c.after.state, fileOffset: c.after.fileOffset },
          },
        ]
      : [],
  );
  expect(got).toEqual(want);
  for (const c of report.changes.changes)
    if (c.kind === "bat") {
      expect(c.before.stateName).toBe(
        c.role === "payload" ? STATES[c.before.state] : c.before.state === 6 ? "PRESENT" : "NOT_PRESENT",
      );
      expect(c.after.stateName).toBe(
        c.role === "payload" ? STATES[c.after.state] : c.after.state === 6 ? "PRESENT" : "NOT_PRESENT",
      );
    }
  return want.length;
}

describe("decoded replay changes, hand-built logs", () => {
  it("names the BAT entries, sector bitmap entries and metadata fields a replay changes, as the replay does", async () => {
    // 1 MiB blocks, 512-byte sectors: chunk ratio 4096, so entry 4096 is the first sector bitmap entry.
    const img = buildImage({ virtualSize: 8 * MiB, blockSize: MiB, allocated: [1] });
    const bat = img.bytes.slice(img.batOffset, img.batOffset + 4096);
    const dv = new DataView(bat.buffer);
    dv.setUint32(3 * 8, 6 | (200 << 20), true); // block 3: NOT_PRESENT → FULLY_PRESENT at 200 MiB
    dv.setUint32(1 * 8, 2, true); // block 1: FULLY_PRESENT → ZERO
    const vds = img.metadataEntries.find((e) => e.itemId === "2fa54224-cd1b-4876-b211-5dbed83bf4b8")!;
    const data = new Uint8Array(4096).fill(0x77);
    // The Virtual Disk Size item grows to 16 MiB in the same entry.
    const vdsSector = img.metadataOffset + (vds.offset & ~4095);
    const item = img.bytes.slice(vdsSector, vdsSector + 4096);
    new DataView(item.buffer).setUint32(vds.offset % 4096, 16 * MiB, true);
    withPendingLog(img, [
      { fileOffset: img.batOffset, data: bat },
      { fileOffset: vdsSector, data: item },
      { fileOffset: img.blockOffsets.get(1)!, data },
    ]);

    const opened = await openImage(new MemoryBackend(img.bytes, { readOnly: true }));
    const report = await logReport(opened);
    const after = await replayed(img.bytes);
    expect(expectBatChanges(report, img.bytes, after, img.batOffset, 8)).toBe(2);
    const text = report.changes.changes.map(describeReplayChange);
    expect(text).toContain("BAT entry 3 (payload block 3): NOT_PRESENT → FULLY_PRESENT at file 0xc80_0000");
    expect(text.some((t) => /^BAT entry 1 \(payload block 1\): FULLY_PRESENT at file 0x\S+ → ZERO/.test(t))).toBe(true);
    expect(text).toContain("metadata Virtual Disk Size: 0x80_0000 → 0x100_0000");
    // What the replay writes into block 1 is named by its structure, not decoded.
    expect(report.changes.changes).toContainEqual(
      expect.objectContaining({ kind: "data", fileOffset: img.blockOffsets.get(1), length: 4096 }),
    );
    // The header updates of an in-place replay: LogGuid to zero in both slots, as the replay left them.
    const logGuids = report.changes.changes.filter((c) => c.kind === "header" && c.field === "LogGuid");
    expect(logGuids.map((c) => c.kind === "header" && c.after)).toEqual([
      "00000000-0000-0000-0000-000000000000",
      "00000000-0000-0000-0000-000000000000",
    ]);
    for (const slot of [0, 1]) {
      const at = (slot + 1) * 64 * 1024;
      const seq = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset + at + 8, 8).getBigUint64(0, true).toString();
      const c = report.changes.changes.find(
        (x) => x.kind === "header" && x.slot === slot + 1 && x.field === "SequenceNumber",
      );
      expect(c).toMatchObject({ before: seq(img.bytes), after: seq(after) });
    }
  });

  it("names sector bitmap entries as such", async () => {
    const img = buildImage({
      virtualSize: 8 * MiB,
      blockSize: MiB,
      type: "differencing",
      parentLocator: [["parent_linkage", "{6f0d1c7e-2b43-4a5e-9c1d-0123456789ab}"]],
    });
    // Differencing, chunk ratio 4096: entry 4096 is chunk 0's sector bitmap entry, in the BAT's ninth 4 KiB.
    const sbEntry = 4096;
    const sectorAt = img.batOffset + sbEntry * 8;
    const sector = img.bytes.slice(sectorAt, sectorAt + 4096);
    new DataView(sector.buffer).setUint32(0, 6 | (300 << 20), true);
    withPendingLog(img, [{ fileOffset: sectorAt, data: sector }]);
    const opened = await openImage(new MemoryBackend(img.bytes, { readOnly: true }));
    const report = await logReport(opened);
    const after = await replayed(img.bytes);
    expect(expectBatChanges(report, img.bytes, after, img.batOffset, sbEntry + 1)).toBe(1);
    expect(report.changes.changes.map(describeReplayChange)).toContain(
      "BAT entry 4096 (sector bitmap entry of chunk 0): NOT_PRESENT → PRESENT at file 0x12c0_0000",
    );
  });
});

describe.skipIf(missingTools("qemu-img", "qemu-io") || crashShimUnavailable())(
  "decoded replay changes, QEMU's logs",
  () => {
    const tmp = useTempDir("vhdx-replay-changes-");
    const WORKLOAD = ["write -P 0x5a 0 64k", "write -P 0xa5 3M 64k", "write -P 0x2e 9M 64k"].flatMap((c) => ["-c", c]);

    it("every BAT entry QEMU's dirty log changes is decoded as the replay leaves it", async () => {
      const base = tmp.path("base.vhdx");
      execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", base, "16M"]);
      const full = tmp.path("full.vhdx");
      copyFileSync(base, full);
      const { count } = countWrites("qemu-io", [...WORKLOAD, full]);
      let decoded = 0;
      let images = 0; // three dirty logs are enough; the log interop test walks every kill point
      for (let n = 1; n <= count && images < 3; n++) {
        const crashed = tmp.path(`crash-${n}.vhdx`);
        copyFileSync(base, crashed);
        expect(runKilledAt("qemu-io", [...WORKLOAD, crashed], n).killed).toBe(true);
        const io = await NodeFileBackend.open(crashed, { readOnly: true });
        try {
          const img = await openImage(io, { readOnly: true });
          if (!img.logNeedsReplay) continue;
          images++;
          const report = await logReport(img);
          const before = new Uint8Array(readFileSync(crashed));
          const after = await replayed(before);
          const entries = img.bat.geometry.totalBatEntries;
          decoded += expectBatChanges(report, before, after, img.batRegion.fileOffset, entries);
        } finally {
          await io.close();
          rmSync(crashed, { force: true });
        }
      }
      expect(decoded).toBeGreaterThan(0);
    });
  },
);
