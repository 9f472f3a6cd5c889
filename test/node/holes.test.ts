import { describe, expect, it } from "vitest";
import { existsSync, statfsSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { findHoles, holesFromFilefrag } from "../../src/node/holes";
import { runFilefrag } from "../../src/node/filefrag";
import { RawFileDisk } from "../../src/node/rawDisk";
import { convertToVhdx } from "../../src/vhdx/convert";
import type { ByteRange } from "../../src/vhdx/image";
import { MiB } from "../../src/vhdx/bytes";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { patternBytes } from "../helpers/random";
import { runOk } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { isCI, missingTools } from "../helpers/tools";

// filefrag's output, as it prints it for a 64 MiB file made like `layeredFile` below on ext4.
const EXT4_SAMPLE = `Filesystem type is: ef53
File size of /proc/self/fd/3 is 67108864 (67108864 blocks of 1 bytes)
 ext:     logical_offset:        physical_offset: length:   expected: flags:
   0:  8388608..12582911: 31146901504..31151095807: 4194304:    8388608:
   1: 20971520..25165823: 31142707200..31146901503: 4194304: 31159484416: unwritten
   2: 39997440..40001535:          0..         0:      0:             last,unknown_loc,delalloc
/proc/self/fd/3: 3 extents found
`;
const SIZE = 64 * MiB;

describe("holesFromFilefrag", () => {
  it("turns extents into the holes between them; unwritten and delayed extents count as data", () => {
    expect(holesFromFilefrag(EXT4_SAMPLE, SIZE)).toEqual([
      { start: 0, end: 8 * MiB },
      { start: 12 * MiB, end: 20 * MiB },
      { start: 24 * MiB, end: 39997440 },
      { start: 40001536, end: SIZE },
    ]);
  });

  it("a file with no extents is one hole; a fully written one has none", () => {
    const none = `Filesystem type is: ef53\nFile size of x is 8388608 (8388608 blocks of 1 bytes)\nx: 0 extents found\n`;
    expect(holesFromFilefrag(none, 8 * MiB)).toEqual([{ start: 0, end: 8 * MiB }]);
    const full = `Filesystem type is: 58465342
File size of x is 8388608 (8388608 blocks of 1 bytes)
 ext:     logical_offset:        physical_offset: length:   expected: flags:
   0:        0.. 8388607: 44031803392..44040191999: 8388608:             last,eof
x: 1 extent found
`;
    expect(holesFromFilefrag(full, 8 * MiB)).toEqual([]);
  });

  it("an extent past the end of the file (preallocated) leaves no hole there", () => {
    const text = EXT4_SAMPLE.replace("39997440..40001535", "39997440..99999999");
    expect(holesFromFilefrag(text, SIZE)).toEqual([
      { start: 0, end: 8 * MiB },
      { start: 12 * MiB, end: 20 * MiB },
      { start: 24 * MiB, end: 39997440 },
    ]);
  });

  // Every way the output can be other than complete and as expected gives no holes at all.
  const refused: [string, string, number][] = [
    ["a file system whose map is not trusted (tmpfs)", EXT4_SAMPLE.replace("ef53", "1021994"), SIZE],
    ["another size than the file's", EXT4_SAMPLE, SIZE + 512],
    [
      "units other than bytes",
      EXT4_SAMPLE.replace("(67108864 blocks of 1 bytes)", "(16384 blocks of 4096 bytes)"),
      SIZE,
    ],
    ["no extent flagged last (a cut-off listing)", EXT4_SAMPLE.replace("last,unknown_loc", "unknown_loc"), SIZE],
    [
      "an extent after the last",
      EXT4_SAMPLE.replace("/proc/self/fd/3: 3", "   3: 50000000..50000001: 1..2: 2: last\n/proc/self/fd/3: 4"),
      SIZE,
    ],
    ["extents out of order", EXT4_SAMPLE.replace("20971520..25165823", "2097152..2516582"), SIZE],
    ["an unknown flag, printed in hex", EXT4_SAMPLE.replace("unwritten", "0x4000"), SIZE],
    ["no summary line", EXT4_SAMPLE.replace("/proc/self/fd/3: 3 extents found\n", ""), SIZE],
    [
      "no extents listed though the summary counts some",
      EXT4_SAMPLE.split("\n")
        .filter((l) => !/^\s+\d+:/.test(l))
        .join("\n"),
      SIZE,
    ],
    ["no table header", EXT4_SAMPLE.replace(/^ ext:.*\n/m, ""), SIZE],
    ["an error message", "filefrag: Operation not supported\n", SIZE],
    ["nothing", "", SIZE],
  ];
  for (const [what, text, size] of refused) {
    it(`refuses ${what}`, () => expect(holesFromFilefrag(text, size)).toBeNull());
  }
});

/**
 * A 64 MiB sparse file: 4 MiB written and flushed at 8 MiB, and 4 MiB preallocated at 20 MiB.
 * `layered` then writes three bytes into the preallocation (an unwritten extent holding data only
 * in the page cache) and three at 40,000,000 (delayed allocation). Returns the ranges of those
 * non-zero bytes, the oracle for "no hole over data".
 */
function layeredFile(path: string): ByteRange[] {
  writeFileSync(path, new Uint8Array(0));
  runOk("truncate", ["-s", String(SIZE), path]);
  runOk("dd", [`of=${path}`, "bs=1M", "seek=8", "count=4", "conv=notrunc,fsync", "if=/dev/urandom", "status=none"]);
  runOk("fallocate", ["-o", String(20 * MiB), "-l", String(4 * MiB), path]);
  return [
    { start: 8 * MiB, end: 12 * MiB },
    { start: 21 * MiB, end: 21 * MiB + 3 },
    { start: 40_000_000, end: 40_000_003 },
  ];
}

async function pokeBytes(path: string, at: number, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, "r+");
  try {
    await fh.write(bytes, 0, bytes.length, at);
  } finally {
    await fh.close();
  }
}

const TRUSTED = new Set([0xef53, 0x58465342]);
const filefragMissing = (() => {
  if (process.platform !== "linux") return "not Linux";
  if (["/usr/sbin/filefrag", "/sbin/filefrag"].some((p) => existsSync(p))) return undefined;
  const reason = "filefrag not found (Debian package e2fsprogs: apt-get install -y e2fsprogs)";
  if (isCI) throw new Error(`CI=true and a tool is missing: ${reason}`);
  return reason;
})();

describe.skipIf(filefragMissing !== undefined || missingTools("qemu-img", "fallocate") !== undefined)(
  "findHoles on a real file",
  () => {
    const tmp = useTempDir("vhdx-holes-");

    async function layered(name: string): Promise<{ path: string; data: ByteRange[] }> {
      const path = tmp.path(name);
      const data = layeredFile(path);
      await pokeBytes(path, 21 * MiB, Uint8Array.of(1, 2, 3));
      await pokeBytes(path, 40_000_000, Uint8Array.of(4, 5, 6));
      return { path, data };
    }

    /** qemu-img's map of a raw file (SEEK_DATA/SEEK_HOLE): the ranges it reads as zero without data. */
    function qemuZeroRanges(path: string): ByteRange[] {
      const map = JSON.parse(runOk("qemu-img", ["map", "--output=json", "-f", "raw", path]).stdout) as {
        start: number;
        length: number;
        data: boolean;
      }[];
      return map.filter((e) => !e.data).map((e) => ({ start: e.start, end: e.start + e.length }));
    }

    it("finds holes only where QEMU's SEEK_HOLE finds them, and never over a byte that was written", async () => {
      const { path, data } = await layered("layered.raw");
      const fh = await open(path, "r");
      let holes: ByteRange[];
      try {
        holes = await findHoles(fh, SIZE);
      } finally {
        await fh.close();
      }
      for (const h of holes) for (const d of data) expect(h.end <= d.start || d.end <= h.start).toBe(true);
      const qemu = qemuZeroRanges(path);
      for (const h of holes) expect(qemu.some((q) => q.start <= h.start && h.end <= q.end)).toBe(true);
      if (TRUSTED.has(statfsSync(path).type)) {
        // On ext4 and XFS the map is used: at least the untouched stretches are holes.
        expect(holes).toContainEqual({ start: 0, end: 8 * MiB });
        expect(holes.reduce((n, h) => n + h.end - h.start, 0)).toBeGreaterThan(40 * MiB);
      } else {
        expect(holes).toEqual([]);
      }
    });

    it("distrusts a map that puts a hole over data: samples of every hole must read as zeros", async () => {
      const { path } = await layered("liar.raw");
      const fh = await open(path, "r");
      try {
        // A listing that leaves out the extent at 8 MiB, as a wrong parse or a stale map could.
        const lying = EXT4_SAMPLE.replace(/^\s+0: .*\n/m, "");
        expect(holesFromFilefrag(lying, SIZE)).toContainEqual({ start: 0, end: 20 * MiB });
        expect(await findHoles(fh, SIZE, async () => lying)).toEqual([]);
        expect(await findHoles(fh, SIZE, async () => null)).toEqual([]);
        expect(await findHoles(fh, SIZE, async () => Promise.reject(new Error("spawn failed")))).toEqual([]);
        // The runner itself maps the very file that is open, whatever its name.
        const text = await runFilefrag(fh);
        if (TRUSTED.has(statfsSync(path).type)) expect(holesFromFilefrag(text ?? "", SIZE)).not.toBeNull();
      } finally {
        await fh.close();
      }
    });

    it("keeps only holes of 1 MiB or more, the only ones a copy's pieces fit in", async () => {
      const { path } = await layered("small-holes.raw");
      // The extent at 20 MiB said to start at 12.5 MiB: the hole before it is 512 KiB.
      const text = EXT4_SAMPLE.replace("20971520..25165823", "13107200..25165823");
      expect(holesFromFilefrag(text, SIZE)).toContainEqual({ start: 12 * MiB, end: 12.5 * MiB });
      const fh = await open(path, "r");
      try {
        expect(await findHoles(fh, SIZE, async () => text)).toEqual([
          { start: 0, end: 8 * MiB },
          { start: 24 * MiB, end: 39997440 },
          { start: 40001536, end: SIZE },
        ]);
      } finally {
        await fh.close();
      }
    });

    it("does not look for holes in a file whose allocated space covers its size", async () => {
      const path = tmp.path("dense.raw");
      writeFileSync(path, patternBytes(3, 2 * MiB));
      const fh = await open(path, "r");
      let asked = false;
      try {
        const holes = await findHoles(fh, 2 * MiB, async () => {
          asked = true;
          return null;
        });
        expect(holes).toEqual([]);
        expect(asked).toBe(false);
      } finally {
        await fh.close();
      }
    });

    it("the vhdx command converts the file, holes skipped, every byte kept (QEMU compares)", async () => {
      const { path } = await layered("cli.raw");
      const outPath = tmp.path("cli.vhdx");
      const bin = fileURLToPath(new URL("../../bin/vhdx.cjs", import.meta.url));
      runOk(process.execPath, [bin, "convert", path, outPath]);
      runOk("qemu-img", ["compare", "-f", "vhdx", "-F", "raw", outPath, path]);
    });

    it("a conversion of the file skips its holes and keeps every byte (QEMU compares)", async () => {
      const { path } = await layered("convert.raw");
      const tail = patternBytes(9, 5000);
      await pokeBytes(path, 63 * MiB, tail);
      const disk = await RawFileDisk.open(path);
      const reads: number[] = [];
      const readInto = disk.readInto.bind(disk);
      disk.readInto = async (offset, target) => {
        reads.push(offset);
        return readInto(offset, target);
      };
      const outPath = tmp.path("convert.vhdx");
      const out = await NodeFileBackend.open(outPath, { create: "exclusive" });
      try {
        await convertToVhdx(disk, out, { type: "dynamic", blockSize: MiB });
      } finally {
        await out.close();
        await disk.close();
      }
      runOk("qemu-img", ["compare", "-f", "vhdx", "-F", "raw", outPath, path]);
      if (TRUSTED.has(statfsSync(path).type)) {
        // The first 8 MiB are a hole, so not one of their bytes was read; a read starts where the
        // data does: the extent holding the bytes poked at 40,000,000 starts past 38 MiB.
        expect(reads.filter((r) => r < 8 * MiB)).toEqual([]);
        expect(reads).toContain(8 * MiB);
        expect(reads).toContain(21 * MiB);
        expect(reads.some((r) => r > 38 * MiB && r <= 40_000_000)).toBe(true);
      }
    });
  },
);
