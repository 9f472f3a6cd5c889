/**
 * The log report of a dirty image opened read-only lists the changes from the replay the open
 * already made in memory; they must be exactly what a fresh replay preview of the file gives.
 */
import { describe, expect, it } from "vitest";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { replayPreview, scanLog } from "../../src/vhdx/log";
import { logReport } from "../../src/vhdx/logReport";
import { buildImage, withPendingLog } from "../helpers/buildImage";

describe("logReport on a dirty image", () => {
  it("lists the same replay changes as a fresh preview, naming the structure each lands in", async () => {
    const img = buildImage();
    const sector = new Uint8Array(4096).fill(0x5a);
    withPendingLog(img, [{ fileOffset: img.batOffset, data: sector }]);
    const file = new MemoryBackend(img.bytes, { readOnly: true });
    const opened = await openImage(file);
    expect(opened.logNeedsReplay).toBe(true);
    const report = await logReport(opened, { previewBytes: 4096 });
    const fresh = await replayPreview(file, await scanLog(file, opened.header), 4096);
    expect(report.preview.map((p) => [p.kind, p.fileOffset, p.length])).toEqual(
      fresh.map((p) => [p.kind, p.fileOffset, p.length]),
    );
    report.preview.forEach((p, i) => {
      expect(Buffer.from(p.before).equals(Buffer.from(fresh[i].before))).toBe(true);
      expect(Buffer.from(p.after).equals(Buffer.from(fresh[i].after))).toBe(true);
    });
    expect(report.preview[0]).toMatchObject({ kind: "write", fileOffset: img.batOffset, structure: "BAT region" });
    expect(Buffer.from(report.preview[0].after).equals(Buffer.from(sector))).toBe(true);
  });
});
