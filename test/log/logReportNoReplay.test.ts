/**
 * `vhdx log` with nothing to replay decodes nothing: the report of a clean log, and of a LogGuid
 * left set over no valid sequence, is what an in-place replay of a copy really does (no write at
 * all; only the header updates that clear LogGuid), and the replay decoder runs only over a
 * sequence to replay (or the header updates alone).
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { HeaderUpdater, replayLogInPlace, scanLog } from "../../src/vhdx/log";
import { logReport } from "../../src/vhdx/logReport";
import * as replayChanges from "../../src/vhdx/replayChanges";
import { buildImage, withHeader, withPendingLog } from "../helpers/buildImage";

vi.mock("../../src/vhdx/replayChanges", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/vhdx/replayChanges")>();
  return { ...actual, decodeReplayChanges: vi.fn(actual.decodeReplayChanges) };
});
const decode = vi.mocked(replayChanges.decodeReplayChanges);
const LOG_GUID = "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a";
const HEADER_SLOTS = [64 * 1024, 128 * 1024];

/** A copy of `bytes` replayed in place, as `vhdx replay` does. */
async function replayedCopy(bytes: Uint8Array): Promise<Uint8Array> {
  const io = new MemoryBackend(bytes.slice());
  const u = await HeaderUpdater.load(io);
  await replayLogInPlace(u, await scanLog(io, u.current));
  return io.read(0, await io.size());
}

/** The file offsets (in 4 KiB sectors) where two files differ. */
function differingSectors(a: Uint8Array, b: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at < Math.max(a.length, b.length); at += 4096)
    if (Buffer.compare(a.subarray(at, at + 4096), b.subarray(at, at + 4096)) !== 0) out.push(at);
  return out;
}

beforeEach(() => {
  decode.mockClear();
});

describe("vhdx log with nothing to replay", () => {
  it("a clean log: no preview, no change, the decoder never runs", async () => {
    const img = buildImage({ allocated: [1] });
    const report = await logReport(await openImage(new MemoryBackend(img.bytes, { readOnly: true })));
    expect([report.empty, report.active, report.warning]).toEqual([true, null, null]);
    expect(report.preview).toEqual([]);
    expect(report.changes).toEqual({ changes: [], batChangesNotListed: 0 });
    expect(decode).not.toHaveBeenCalled();
  });

  it("LogGuid set over no valid sequence: only the header updates a replay makes, decoded once", async () => {
    const img = buildImage({ allocated: [1] });
    withHeader(img.bytes, 0, { logGuid: LOG_GUID });
    withHeader(img.bytes, 1, { logGuid: LOG_GUID });
    const report = await logReport(await openImage(new MemoryBackend(img.bytes, { readOnly: true })));
    expect(report.active).toBe(null);
    expect(report.warning).toMatch(/no valid entry sequence/);
    expect(report.preview).toEqual([]);
    expect(decode).toHaveBeenCalledTimes(1);
    // The replay of a copy writes the two headers and nothing else.
    const after = await replayedCopy(img.bytes);
    expect(differingSectors(img.bytes, after)).toEqual(HEADER_SLOTS);
    expect(report.changes.changes.every((c) => c.kind === "header")).toBe(true);
    const logGuids = report.changes.changes.filter((c) => c.kind === "header" && c.field === "LogGuid");
    expect(logGuids.map((c) => c.kind === "header" && [c.slot, c.before, c.after])).toEqual([
      [1, LOG_GUID, "00000000-0000-0000-0000-000000000000"],
      [2, LOG_GUID, "00000000-0000-0000-0000-000000000000"],
    ]);
  });

  it("a dirty log: the sequence is decoded, each sector it writes named", async () => {
    const img = buildImage({ allocated: [1] });
    withPendingLog(img, [{ fileOffset: img.blockOffsets.get(1)!, data: new Uint8Array(4096).fill(0x5a) }]);
    const report = await logReport(await openImage(new MemoryBackend(img.bytes, { readOnly: true })));
    expect(report.active?.entryCount).toBe(1);
    expect(decode).toHaveBeenCalledTimes(2); // the replay's writes, then the header updates
    const after = await replayedCopy(img.bytes);
    const written = differingSectors(img.bytes, after).filter((at) => !HEADER_SLOTS.includes(at));
    expect(written).toEqual([img.blockOffsets.get(1)]);
    expect(report.changes.changes.filter((c) => c.kind === "data")).toEqual([
      expect.objectContaining({ fileOffset: img.blockOffsets.get(1), length: 4096 }),
    ]);
  });
});
