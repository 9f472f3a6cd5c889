/**
 * §2.5.1.1: an UNMAPPED or UNDEFINED entry may keep a non-zero FileOffsetMB that "MUST point to a
 * location in the VHDX file that MUST contain the contents of the block" before the transition;
 * §2.5.1: non-zero FileOffsetMB values MUST be unique across the BAT. Such retained blocks own their
 * space: a write never lands on them, `vhdx check` reports two entries sharing one, and a fixed
 * image short of room takes one over only after a log entry of its own has cleared its entry.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  encodeBatEntry,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_UNDEFINED,
  PAYLOAD_BLOCK_UNMAPPED,
  PAYLOAD_BLOCK_ZERO,
} from "../../src/vhdx/bat";
import { MiB } from "../../src/vhdx/bytes";
import { checkImage } from "../../src/vhdx/check";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { VhdxWriter } from "../../src/vhdx/write";
import { buildImage, patternByte } from "../helpers/buildImage";
import { forEachCrash, RecordingBackend } from "./recording";
import { check, codes, expectFinding } from "../helpers/checkHelpers";
import { createQemuImage } from "../helpers/qemu";
import { runOk } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { missingTools, requireTool } from "../helpers/tools";

const setBat = (bytes: Uint8Array, batOffset: number, index: number, state: number, mb: number) =>
  bytes.set(encodeBatEntry(state, mb), batOffset + index * 8);
const tmp = useTempDir("vhdx-retained-");

/** Every non-zero FileOffsetMB of the image's BAT, each with its entries. */
async function offsets(bytes: Uint8Array): Promise<Map<number, number[]>> {
  const img = await openImage(new MemoryBackend(bytes));
  const out = new Map<number, number[]>();
  for (let i = 0; i < img.bat.length; i++) {
    const mb = img.bat.fileOffsetMB(i);
    if (mb !== 0) out.set(mb, [...(out.get(mb) ?? []), i]);
  }
  return out;
}

describe.skipIf(missingTools("qemu-img"))("UNMAPPED blocks keeping their space (§2.5.1.1)", () => {
  it("a write never lands on a retained block; QEMU reads the result and finds it clean", async () => {
    const path = createQemuImage({ path: tmp.path("q.vhdx"), sizeBytes: 8 * MiB, blockSizeMiB: 1 });
    runOk(requireTool("qemu-io"), ["-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 1M 1M", path]);
    const bytes = new Uint8Array(readFileSync(path));
    const first = await openImage(new MemoryBackend(bytes));
    const batAt = first.batRegion.fileOffset;
    const retainedMb = first.bat.fileOffsetMB(1);
    expect(first.bat.state(1)).toBe(PAYLOAD_BLOCK_FULLY_PRESENT);
    // Block 1 unmapped, its contents kept where they are (option 1: the field left unmodified).
    setBat(bytes, batAt, 1, PAYLOAD_BLOCK_UNMAPPED, retainedMb);
    const mem = new MemoryBackend(bytes);
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
    // QEMU leaves [4 MiB, 8 MiB) free before its first block: five blocks fill that gap and need one more.
    expect(first.registry.freeGaps(first.fileSize)).toEqual([{ start: 4 * MiB, length: 4 * MiB }]);
    await w.write(3 * MiB, new Uint8Array(5 * MiB).fill(0x55));
    await w.close();
    const after = mem.bytes();
    expect(after.subarray(retainedMb * MiB, (retainedMb + 1) * MiB).every((b) => b === 0x22)).toBe(true);
    for (const [mb, entries] of await offsets(after)) expect(entries, `FileOffsetMB ${mb}`).toHaveLength(1);
    expect((await checkImage(new MemoryBackend(after))).ok).toBe(true);

    writeFileSync(path, after);
    expect(runOk(requireTool("qemu-img"), ["check", path]).stdout).toMatch(/No errors were found/);
    runOk(requireTool("qemu-img"), ["convert", "-O", "raw", path, tmp.path("q.raw")]);
    const raw = readFileSync(tmp.path("q.raw"));
    expect(raw.subarray(0, MiB).every((b) => b === 0x11)).toBe(true);
    // QEMU reads an UNMAPPED block as zeros, as this engine does.
    expect(raw.subarray(MiB, 2 * MiB).every((b) => b === 0)).toBe(true);
    expect(raw.subarray(3 * MiB, 8 * MiB).every((b) => b === 0x55)).toBe(true);
  });
});

describe("check: retained blocks", () => {
  it("BAT_OFFSET_DUPLICATE between two retained blocks, and between a retained and a present one", async () => {
    let img = buildImage({ allocated: [1, 2] });
    const mb1 = img.blockOffsets.get(1)! / MiB;
    setBat(img.bytes, img.batOffset, 1, PAYLOAD_BLOCK_UNMAPPED, mb1);
    setBat(img.bytes, img.batOffset, 3, PAYLOAD_BLOCK_UNDEFINED, mb1);
    let r = await check(img.bytes);
    expectFinding(r, "BAT_OFFSET_DUPLICATE", "error", img.batOffset + 3 * 8);
    expect(r.ok).toBe(false);

    img = buildImage({ allocated: [1, 2] });
    setBat(img.bytes, img.batOffset, 4, PAYLOAD_BLOCK_UNMAPPED, img.blockOffsets.get(2)! / MiB);
    r = await check(img.bytes);
    expectFinding(r, "BAT_OFFSET_DUPLICATE", "error", img.batOffset + 4 * 8);
  });

  it("a retained block is space in use, not SPACE_UNREFERENCED; one past the end is a warning", async () => {
    const img = buildImage({ allocated: [1, 2] });
    setBat(img.bytes, img.batOffset, 1, PAYLOAD_BLOCK_UNMAPPED, img.blockOffsets.get(1)! / MiB);
    expect(codes(await check(img.bytes))).toEqual([]);
    setBat(img.bytes, img.batOffset, 5, PAYLOAD_BLOCK_UNMAPPED, 4000);
    const r = await check(img.bytes);
    expectFinding(r, "BAT_RETAINED_OFFSET_INVALID", "warning", img.batOffset + 5 * 8);
    expect(r.ok).toBe(true);
  });

  it("a writable open refuses a retained block that collides with a present one", async () => {
    const img = buildImage({ allocated: [1, 2] });
    setBat(img.bytes, img.batOffset, 4, PAYLOAD_BLOCK_UNMAPPED, img.blockOffsets.get(2)! / MiB);
    await expect(openImage(new MemoryBackend(img.bytes), { readOnly: false })).rejects.toMatchObject({
      code: "REGION_OVERLAP",
    });
  });
});

describe("reclaiming a retained block (fixed images)", () => {
  /** A fixed 8 MiB image: block 3 UNMAPPED keeping its space, block 7 ZERO with its space cut off the file. */
  function fixedWithRetained() {
    const img = buildImage({ type: "fixed" });
    const b3 = img.blockOffsets.get(3)!;
    setBat(img.bytes, img.batOffset, 3, PAYLOAD_BLOCK_UNMAPPED, b3 / MiB);
    setBat(img.bytes, img.batOffset, 7, PAYLOAD_BLOCK_ZERO, 0);
    expect(img.blockOffsets.get(7)).toBe(img.bytes.length - MiB);
    return { bytes: img.bytes.slice(0, img.bytes.length - MiB), batOffset: img.batOffset, b3 };
  }

  it("a write into the UNMAPPED block takes its own space back; the file does not grow", async () => {
    const { bytes, b3 } = fixedWithRetained();
    const mem = new MemoryBackend(bytes);
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
    await w.write(3 * MiB + 4096, new Uint8Array(512).fill(0x77));
    await w.close();
    const img = await openImage(new MemoryBackend(mem.bytes()));
    expect(img.fileSize).toBe(bytes.length);
    expect([img.bat.state(3), img.bat.fileOffsetMB(3) * MiB]).toEqual([PAYLOAD_BLOCK_FULLY_PRESENT, b3]);
    const block = await img.read(3 * MiB, MiB);
    expect(block.subarray(4096, 4608).every((b) => b === 0x77)).toBe(true);
    expect(block.subarray(0, 4096).every((b) => b === 0)).toBe(true);
    expect(block.subarray(4608).every((b) => b === 0)).toBe(true);
    expect((await checkImage(new MemoryBackend(mem.bytes()))).ok).toBe(true);
  });

  it("another block with no room takes it over: one log entry clears its FileOffsetMB, the next points there", async () => {
    const { bytes, batOffset, b3 } = fixedWithRetained();
    const mem = new MemoryBackend(bytes);
    let entries = 0;
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }), {
      // After the entry is flushed, before it is applied: what a crash here replays to.
      afterLogFlush: async () => void entries++,
    });
    await w.write(7 * MiB, new Uint8Array(MiB).fill(0x99));
    await w.close();
    expect(entries).toBe(2);
    const after = mem.bytes();
    expect(after.length).toBe(bytes.length);
    const img = await openImage(new MemoryBackend(after));
    expect([img.bat.state(7), img.bat.fileOffsetMB(7) * MiB]).toEqual([PAYLOAD_BLOCK_FULLY_PRESENT, b3]);
    expect([img.bat.state(3), img.bat.fileOffsetMB(3)]).toEqual([PAYLOAD_BLOCK_UNMAPPED, 0]);
    expect(after.subarray(batOffset + 3 * 8, batOffset + 4 * 8)).toEqual(encodeBatEntry(PAYLOAD_BLOCK_UNMAPPED, 0));
    expect((await img.read(7 * MiB, MiB)).every((b) => b === 0x99)).toBe(true);
    expect((await img.read(2 * MiB, 1))[0]).toBe(patternByte(2 * MiB));
    expect((await checkImage(new MemoryBackend(after))).ok).toBe(true);
  });

  /**
   * Cuts the power at every write of `edit` and checks each crash image after replay: every entry
   * with a retained FileOffsetMB still points at its old bytes (§2.5.1.1 option 3) or has let it go
   * (offset 0), no two entries share an offset, and every block reads as before or after the edit.
   */
  async function crashWalk(
    edit: (w: VhdxWriter) => Promise<void>,
    reads: (block: number, data: Uint8Array, after: boolean) => boolean,
    isAfter: (img: Awaited<ReturnType<typeof openImage>>) => boolean,
  ) {
    const { bytes } = fixedWithRetained();
    const rec = new RecordingBackend(bytes);
    const w = new VhdxWriter(await openImage(rec, { readOnly: false }));
    await w.beginDataWrite(); // the session's header updates, not part of the edit under test
    const from = rec.ops.length;
    await edit(w);
    const to = rec.ops.length;
    await w.close();
    const seen = { before: 0, after: 0, retainedLetGo: 0 };
    const tried = await forEachCrash(bytes, rec.ops, from, to, async (crash) => {
      const mem = new MemoryBackend(crash.bytes);
      const img = await openImage(mem, { readOnly: false });
      const where = `crash after op ${crash.op} (${crash.variant})`;
      const after = isAfter(img);
      seen[after ? "after" : "before"]++;
      const owners = new Map<number, number>();
      for (let block = 0; block < 8; block++) {
        const { state, fileOffset } = img.blockLocation(block);
        if (fileOffset !== 0) {
          expect(
            owners.get(fileOffset),
            `${where}: blocks ${owners.get(fileOffset)} and ${block} share an offset`,
          ).toBe(undefined);
          owners.set(fileOffset, block);
        }
        if (state === PAYLOAD_BLOCK_UNMAPPED || state === PAYLOAD_BLOCK_UNDEFINED) {
          if (fileOffset === 0) seen.retainedLetGo++;
          else {
            const now = await mem.read(fileOffset, MiB);
            expect(Buffer.compare(now, bytes.subarray(fileOffset, fileOffset + MiB)), `${where}: block ${block}`).toBe(
              0,
            );
          }
        }
        expect(reads(block, await img.read(block * MiB, MiB), after), `${where}: block ${block} reads`).toBe(true);
      }
      await img.close();
    });
    expect(tried).toBeGreaterThan(0);
    expect(seen.before).toBeGreaterThan(0);
    expect(seen.after).toBeGreaterThan(0);
    return seen;
  }

  /** Block contents as the fixture holds them (one pattern byte per 512, zeros between). */
  const patterned = (block: number, data: Uint8Array) =>
    data.every((b, i) => b === (i % 512 === 0 ? patternByte(block * MiB + i) : 0));

  it("a power cut at any write while another block takes a retained block over: old bytes or offset 0", async () => {
    const { b3 } = fixedWithRetained();
    const seen = await crashWalk(
      (w) => w.write(7 * MiB, new Uint8Array(MiB).fill(0x99)),
      (block, data, after) => {
        if (block === 3) return data.every((b) => b === 0);
        if (block === 7) return data.every((b) => b === (after ? 0x99 : 0));
        return patterned(block, data);
      },
      (img) => {
        const e7 = img.blockLocation(7);
        if (e7.state !== PAYLOAD_BLOCK_FULLY_PRESENT) return false;
        expect(e7.fileOffset).toBe(b3);
        expect([img.bat.state(3), img.bat.fileOffsetMB(3)]).toEqual([PAYLOAD_BLOCK_UNMAPPED, 0]);
        return true;
      },
    );
    // The cut between letting the retained block go and pointing block 7 there was reached.
    expect(seen.retainedLetGo).toBeGreaterThan(seen.after);
  });

  it("a power cut at any write while the UNMAPPED block takes its own space back: old bytes or offset 0", async () => {
    const { b3 } = fixedWithRetained();
    const seen = await crashWalk(
      (w) => w.write(3 * MiB + 4096, new Uint8Array(512).fill(0x77)),
      (block, data, after) => {
        if (block === 3) return data.every((b, i) => b === (after && i >= 4096 && i < 4608 ? 0x77 : 0));
        if (block === 7) return data.every((b) => b === 0);
        return patterned(block, data);
      },
      (img) => {
        const e3 = img.blockLocation(3);
        if (e3.state !== PAYLOAD_BLOCK_FULLY_PRESENT) return false;
        expect(e3.fileOffset).toBe(b3);
        return true;
      },
    );
    expect(seen.retainedLetGo).toBeGreaterThan(0);
  });

  it("a dynamic image grows instead, the retained block left as it is", async () => {
    const img = buildImage({ allocated: [1] });
    const b1 = img.blockOffsets.get(1)!;
    setBat(img.bytes, img.batOffset, 1, PAYLOAD_BLOCK_UNMAPPED, b1 / MiB);
    const mem = new MemoryBackend(img.bytes);
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
    await w.write(6 * MiB, new Uint8Array(8).fill(1));
    await w.close();
    const after = mem.bytes();
    expect(after.length).toBe(img.bytes.length + MiB);
    expect(Buffer.compare(after.subarray(b1, b1 + MiB), img.bytes.subarray(b1, b1 + MiB))).toBe(0);
    const reopened = await openImage(new MemoryBackend(after));
    expect(reopened.bat.fileOffsetMB(1) * MiB).toBe(b1);
  });
});
