/**
 * Interop with QEMU, both ways:
 *  (a) QEMU's logs: a qemu-io write workload killed before its positional writes in turn (the
 *      kill points of test/helpers/crash.ts killPoints: every step of QEMU's write protocol, early
 *      and late; VHDX_FULL_CRASH=1 kills before every write); QEMU's own recovery (qemu-img check
 *      -r all, then convert to raw) against this engine's in-place replay and its read-only overlay view.
 *  (b) the engine's logs: a commit stopped right after its log entry is flushed; qemu-img check
 *      replays it, and the result must match the engine's own replay byte for byte.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openImage } from "../../src/vhdx/image";
import { HeaderUpdater } from "../../src/vhdx/log/headerUpdate";
import { recoverLog } from "../../src/vhdx/log/recover";
import { LogWriter } from "../../src/vhdx/log/writer";
import { encodeBatEntry, PAYLOAD_BLOCK_FULLY_PRESENT } from "../../src/vhdx/bat";
import {
  BAT_REGION_GUID,
  METADATA_REGION_GUID,
  parseRegionTable,
  REGION_TABLE_OFFSETS,
  REGION_TABLE_SIZE,
} from "../../src/vhdx/regionTable";
import { crashShimUnavailable, killPoints, runKilledAt, traceWrites } from "../helpers/crash";
import { missingTools } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

const VIRTUAL_SIZE = 16 * 1024 * 1024;
// Allocating writes in four blocks (one write spanning two), and a rewrite inside an allocated block.
const WORKLOAD = [
  "write -P 0x5a 0 64k",
  "write -P 0xa5 3M 64k",
  "write -P 0x3c 9433088 8k",
  "write -P 0x11 64k 64k",
  "write -P 0x2e 15M 1M",
].flatMap((c) => ["-c", c]);

function qemuImg(...args: string[]): string {
  return execFileSync("qemu-img", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** QEMU's recovery: check -r all (replays the log), then the virtual disk as raw bytes. */
function qemuRecover(img: string): Buffer {
  qemuImg("check", "-r", "all", img);
  const raw = img + ".raw";
  qemuImg("convert", "-O", "raw", img, raw);
  const bytes = readFileSync(raw);
  rmSync(raw);
  return bytes;
}

/** The engine's in-place recovery through recoverLog, then its read of the virtual disk. */
async function engineInPlace(img: string): Promise<Uint8Array> {
  const io = await NodeFileBackend.open(img, { readOnly: false });
  try {
    const u = await HeaderUpdater.load(io);
    const r = await recoverLog(io, u.current, "in-place", u);
    expect(r.io).toBe(io);
  } finally {
    await io.close();
  }
  const ro = await NodeFileBackend.open(img, { readOnly: true });
  try {
    return await (await openImage(ro, { readOnly: true, replay: "refuse" })).read(0, VIRTUAL_SIZE);
  } finally {
    await ro.close();
  }
}

/** The read-only view: recoverLog in overlay mode, as openImage does for a read-only open. */
async function engineOverlay(
  img: string,
): Promise<{ bytes: Uint8Array; needsReplay: boolean; warning: string | null }> {
  const io = await NodeFileBackend.open(img, { readOnly: true });
  try {
    const header = (await HeaderUpdater.load(io)).current;
    const r = await recoverLog(io, header, "overlay");
    const image = await openImage(io, { readOnly: true });
    expect(image.io === io).toBe(!r.scan.needsReplay);
    // The image's own view (overlay inside openImage) and the overlay recoverLog returned agree.
    const bytes = await image.read(0, VIRTUAL_SIZE);
    const batSector = image.batRegion.fileOffset;
    expect(await r.io.read(batSector, 65536)).toEqual(await image.io.read(batSector, 65536));
    return { bytes, needsReplay: r.scan.needsReplay, warning: r.warning };
  } finally {
    await io.close();
  }
}

describe.skipIf(missingTools("qemu-img", "qemu-io") || crashShimUnavailable())("QEMU interop of the log", () => {
  const tmp = useTempDir("vhdx-log-interop-");

  it("(a) QEMU killed at its kill points: the engine's replay and read-only view match QEMU's recovery", async () => {
    const base = tmp.path("base.vhdx");
    qemuImg("create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", base, "16M");
    const full = tmp.path("full.vhdx");
    copyFileSync(base, full);
    const { count, writes } = traceWrites("qemu-io", [...WORKLOAD, full]);
    expect(count).toBeGreaterThan(10);

    let replayed = 0;
    let warned = 0;
    for (const n of killPoints(writes)) {
      const crashed = tmp.path(`crash-${n}.vhdx`);
      copyFileSync(base, crashed);
      expect(runKilledAt("qemu-io", [...WORKLOAD, crashed], n).killed, `qemu-io should die before write ${n}`).toBe(
        true,
      );
      const q = tmp.path(`qemu-${n}.vhdx`);
      const e = tmp.path(`engine-${n}.vhdx`);
      copyFileSync(crashed, q);
      copyFileSync(crashed, e);
      const expected = qemuRecover(q);
      expect(expected.length).toBe(VIRTUAL_SIZE);

      const before = sha(crashed);
      const view = await engineOverlay(crashed);
      expect(sha(crashed), `read-only view wrote to the file at n=${n}`).toBe(before);
      expect(Buffer.compare(Buffer.from(view.bytes), expected), `overlay view differs from QEMU at n=${n}`).toBe(0);
      if (view.needsReplay) replayed++;
      if (view.warning) warned++;

      const inPlace = await engineInPlace(e);
      expect(Buffer.compare(Buffer.from(inPlace), expected), `in-place replay differs from QEMU at n=${n}`).toBe(0);
      // After the engine's replay QEMU finds nothing to repair.
      expect(qemuImg("check", e)).toMatch(/No errors were found/);
      for (const f of [crashed, q, e]) rmSync(f, { force: true });
    }
    if (process.env.INTEROP_VERBOSE) console.log({ count, replayed, warned });
    // The workload must actually have left logs to replay, and QEMU's LogGuid-without-entries state, behind.
    expect(replayed).toBeGreaterThan(0);
    expect(warned).toBeGreaterThan(0);
  });

  it("(b) the engine stopped after its log flush: qemu-img check replays it to the same bytes as the engine", async () => {
    const base = tmp.path("b-base.vhdx");
    qemuImg("create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", base, "16M");
    execFileSync("qemu-io", ["-c", "write -P 0x42 0 1M", "-c", "write -P 0x24 5M 4k", base], { stdio: "ignore" });

    // Find the BAT from the region table; build a commit that maps payload block 9 to a new block at the end of
    // the file (growing it, so LastFileOffset matters) and zeros two unused BAT sectors.
    const bytes = readFileSync(base);
    const rt = parseRegionTable(
      new Uint8Array(bytes.subarray(REGION_TABLE_OFFSETS[0], REGION_TABLE_OFFSETS[0] + REGION_TABLE_SIZE)),
      REGION_TABLE_OFFSETS[0],
    );
    const batRegion = rt.entries.find((x) => x.guid === BAT_REGION_GUID)!;
    const batSector = new Uint8Array(bytes.subarray(batRegion.fileOffset, batRegion.fileOffset + 4096));
    const newBlockAt = bytes.length;
    // Payload block 9 sits at BAT index 9 (chunk ratio 128 at 1 MiB blocks and 512-byte sectors).
    batSector.set(encodeBatEntry(PAYLOAD_BLOCK_FULLY_PRESENT, newBlockAt / (1024 * 1024)), 9 * 8);
    const updates = [
      { fileOffset: batRegion.fileOffset, data: batSector },
      { fileOffset: batRegion.fileOffset + 8192, data: new Uint8Array(8192) },
    ];

    const stopped = tmp.path("b-stopped.vhdx");
    copyFileSync(base, stopped);
    const io = await NodeFileBackend.open(stopped, { readOnly: false });
    // As an allocating write does: the payload block first (it never goes through the log), flushed, then the BAT
    // update through the log. FlushedFileOffset then covers the block. (QEMU 7.2's replay does not extend a file to
    // LastFileOffset, which §2.3.3 requires, so a commit that left the file short would recover differently there.)
    await io.truncate(newBlockAt + 1024 * 1024);
    await io.write(newBlockAt + 4096, new Uint8Array(8192).fill(0x99));
    await io.flush();
    const writer = new LogWriter(await HeaderUpdater.load(io), {
      afterLogFlush: () => {
        throw new Error("stop after the log flush");
      },
    });
    await expect(writer.commit(updates, { lastFileOffset: newBlockAt + 1024 * 1024 })).rejects.toThrow(/stop after/);
    await io.close();

    const q = tmp.path("b-qemu.vhdx");
    const e = tmp.path("b-engine.vhdx");
    copyFileSync(stopped, q);
    copyFileSync(stopped, e);
    const out = qemuImg("check", "-r", "all", q);
    expect(out).toMatch(/No errors were found|repaired/);
    await engineInPlace(e);

    const qb = readFileSync(q);
    const eb = readFileSync(e);
    expect(eb.length).toBe(qb.length);
    expect(eb.length).toBe(newBlockAt + 1024 * 1024);
    // Everything but the two headers (GUIDs and sequence numbers are fresh on each side) must match.
    expect(Buffer.compare(eb.subarray(0, 64 * 1024), qb.subarray(0, 64 * 1024))).toBe(0);
    expect(Buffer.compare(eb.subarray(192 * 1024), qb.subarray(192 * 1024))).toBe(0);
    // And QEMU did apply the entry: block 9's BAT entry is in place.
    expect(Buffer.compare(qb.subarray(batRegion.fileOffset, batRegion.fileOffset + 4096), Buffer.from(batSector))).toBe(
      0,
    );
    const rawQ = tmp.path("b-qemu.raw");
    const rawE = tmp.path("b-engine.raw");
    qemuImg("convert", "-O", "raw", q, rawQ);
    qemuImg("convert", "-O", "raw", e, rawE);
    expect(sha(rawQ)).toBe(sha(rawE));
    // Block 9 now reads the payload written before the commit.
    expect(readFileSync(rawE)[9 * 1024 * 1024 + 4096]).toBe(0x99);
  });

  it("(c) the engine's entry wrapping around the end of the ring: qemu-img check replays it like the engine", async () => {
    const base = tmp.path("c-base.vhdx");
    qemuImg("create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", base, "16M");
    const bytes = readFileSync(base);
    const rt = parseRegionTable(
      new Uint8Array(bytes.subarray(REGION_TABLE_OFFSETS[0], REGION_TABLE_OFFSETS[0] + REGION_TABLE_SIZE)),
      REGION_TABLE_OFFSETS[0],
    );
    const meta = rt.entries.find((x) => x.guid === METADATA_REGION_GUID)!;
    // Unused space in the second half of the metadata region: no reader looks there, any bytes may go.
    const scratch = meta.fileOffset + meta.length / 2;
    const commit = (k: number) =>
      Array.from({ length: 100 }, (_, i) => ({
        fileOffset: scratch + i * 4096,
        data: new Uint8Array(4096).map((_, j) => (k * 7 + i + j) & 0xff),
      }));
    const stopped = tmp.path("c-stopped.vhdx");
    copyFileSync(base, stopped);
    const io = await NodeFileBackend.open(stopped, { readOnly: false });
    let wrapped = false;
    const writer = new LogWriter(await HeaderUpdater.load(io), {
      afterLogFlush: (info) => {
        if (info.sequenceNumber === 3n) {
          wrapped = info.position + info.entryLength > 1024 * 1024;
          throw new Error("stop after the log flush");
        }
      },
    });
    await writer.commit(commit(1));
    await writer.commit(commit(2));
    await expect(writer.commit(commit(3))).rejects.toThrow(/stop after/);
    await io.close();
    expect(wrapped).toBe(true);

    const q = tmp.path("c-qemu.vhdx");
    const e = tmp.path("c-engine.vhdx");
    copyFileSync(stopped, q);
    copyFileSync(stopped, e);
    qemuImg("check", "-r", "all", q);
    await engineInPlace(e);
    const qb = readFileSync(q);
    const eb = readFileSync(e);
    expect(Buffer.compare(eb.subarray(192 * 1024), qb.subarray(192 * 1024))).toBe(0);
    // Both applied the third commit.
    expect(Buffer.compare(qb.subarray(scratch, scratch + 4096), Buffer.from(commit(3)[0].data))).toBe(0);
  });
});
