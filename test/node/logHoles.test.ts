/**
 * The log search reads around a sparse file's holes (LogRing over NodeFileBackend.knownZeroRanges):
 * a long log in a fresh image is mostly hole, which reads as zeros and can hold no entry. The file
 * here is real and sparse, its entries hand-built from the spec's layout (test/log/builder.ts);
 * what must hold: every entry is still found, including one right after a hole and one in the
 * middle of a window whose first half is hole, and the bytes read are those around the entries.
 */
import { existsSync, statfsSync } from "node:fs";
import { open } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { MiB } from "../../src/vhdx/bytes";
import { scanLog } from "../../src/vhdx/log/search";
import { HOLE_LOOKUP_MIN, LOG_WINDOW } from "../../src/vhdx/log/ring";
import { buildEntry, dataUpdate, LOG_OFFSET, makeFile } from "../log/builder";
import { useTempDir } from "../helpers/tmp";
import { isCI } from "../helpers/tools";

const LOG_LENGTH = 256 * MiB;
/** Right after a hole that runs from the start of the log: a window's first byte. */
const AFTER_HOLE = 96 * MiB;
/** In the middle of a window whose first half is hole. */
const MID_WINDOW = 160 * MiB + 512 * 1024;
const FILE_SIZE = LOG_OFFSET + LOG_LENGTH + MiB;

/** ext2/3/4 and XFS: the file systems whose extent maps holes.ts trusts. */
const TRUSTED = new Set([0xef53, 0x58465342]);
const filefragMissing = (() => {
  if (process.platform !== "linux") return "not Linux";
  if (["/usr/sbin/filefrag", "/sbin/filefrag"].some((p) => existsSync(p))) return undefined;
  const reason = "filefrag not found (Debian package e2fsprogs: apt-get install -y e2fsprogs)";
  if (isCI) throw new Error(`CI=true and a tool is missing: ${reason}`);
  return reason;
})();

const tmp = useTempDir("vhdx-logholes-");

/**
 * A sparse file of LOG_OFFSET + LOG_LENGTH + 1 MiB: both headers, and two entries in the log
 * (sequence 1 in the middle of a window, 2 right after a long hole); everything else a hole.
 */
async function sparseLogFile(name: string) {
  const f = makeFile({ logLength: LOG_LENGTH, size: 2 * MiB });
  const path = tmp.path(name);
  const fh = await open(path, "w+");
  try {
    const head = await f.io.read(0, LOG_OFFSET);
    await fh.write(head, 0, head.length, 0);
    // Both write the sector past the log, inside the file.
    const target = LOG_OFFSET + LOG_LENGTH;
    const sizes = { flushedFileOffset: FILE_SIZE, lastFileOffset: FILE_SIZE };
    const entry = (seq: bigint, at: number) =>
      buildEntry({ sequenceNumber: seq, updates: [dataUpdate(target, Number(seq))], ...sizes }, at, LOG_LENGTH);
    const first = entry(1n, MID_WINDOW);
    const second = entry(2n, AFTER_HOLE);
    await fh.write(first, 0, first.length, LOG_OFFSET + MID_WINDOW);
    await fh.write(second, 0, second.length, LOG_OFFSET + AFTER_HOLE);
    await fh.truncate(FILE_SIZE);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { path, header: f.header };
}

describe.skipIf(filefragMissing !== undefined)("the log search skips a sparse file's holes", () => {
  it("finds the entries after and between holes, reading only the windows that hold data", async () => {
    expect(LOG_LENGTH).toBeGreaterThanOrEqual(HOLE_LOOKUP_MIN);
    const { path, header } = await sparseLogFile("sparse.vhdx");
    const trusted = TRUSTED.has(statfsSync(path).type);
    if (!trusted && isCI) throw new Error(`${tmp.dir} is on a file system whose extent map holes.ts does not trust`);
    const file = await NodeFileBackend.open(path);
    try {
      const scan = await scanLog(file, header);
      // Both entries listed, each where it was put, and valid; the higher sequence is the active one.
      expect(scan.entries.map((e) => [e.position, e.sequenceNumber, e.valid])).toEqual([
        [AFTER_HOLE, 2n, true],
        [MID_WINDOW, 1n, true],
      ]);
      expect(scan.active?.positions).toEqual([AFTER_HOLE]);
      expect(scan.needsReplay).toBe(true);
      const ring = scan.ring!;
      if (trusted) {
        // The data lies in two windows (the file system may allocate a little around each entry,
        // never a whole window more): far from the 256 MiB a plain read costs.
        expect(ring.bytesRead).toBeGreaterThan(0);
        expect(ring.bytesRead).toBeLessThanOrEqual(4 * LOG_WINDOW);
      }
    } finally {
      await file.close();
    }
  });

  it("reads a log below HOLE_LOOKUP_MIN whole, holes or not", async () => {
    const small = HOLE_LOOKUP_MIN / 2;
    const f = makeFile({ logLength: small, size: 2 * MiB });
    const path = tmp.path("small.vhdx");
    const fh = await open(path, "w+");
    try {
      const head = await f.io.read(0, LOG_OFFSET);
      await fh.write(head, 0, head.length, 0);
      await fh.truncate(LOG_OFFSET + small + MiB);
    } finally {
      await fh.close();
    }
    const file = await NodeFileBackend.open(path);
    try {
      const scan = await scanLog(file, f.header);
      expect(scan.entries).toEqual([]);
      // Every window loaded (the listing and the search each pass over the ring) was read whole.
      expect(scan.ring!.bytesRead).toBeGreaterThanOrEqual(small);
      expect(scan.ring!.bytesRead).toBe(scan.ring!.loads * LOG_WINDOW);
    } finally {
      await file.close();
    }
  });
});
