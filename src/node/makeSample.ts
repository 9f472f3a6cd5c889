/**
 * Builds the editor's bundled sample (public/sample.vhdx) with the engine itself: a dynamic
 * image holding a GPT-partitioned disk with data in some blocks, blocks in the ZERO and UNMAPPED
 * states, and a last write whose log entry was flushed but never applied — so the log still
 * needs replay, as after a power cut. Run by `npm install` (prepare) and `npm run sample`.
 */
import { PAYLOAD_BLOCK_UNMAPPED, PAYLOAD_BLOCK_ZERO, payloadEntryIndex } from "../vhdx/bat";
import { BatUpdate } from "../vhdx/batUpdate";
import { MiB } from "../vhdx/bytes";
import { createImage } from "../vhdx/create";
import { writeGuid } from "../vhdx/guid";
import { openImage } from "../vhdx/image";
import { VhdxWriter } from "../vhdx/write";
import { NodeFileBackend } from "./fileBackend";

const SECTOR = 512;
const SIZE = 256 * MiB;
const BLOCK = MiB;
const GPT_ENTRIES = 128;
/** Fixed GUIDs keep the sample's partition table the same from build to build. */
const DISK_GUID = "5a3d9a2e-1c4b-4d7e-9f10-2b6c8d4e7a01";
const PART_GUID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
const BASIC_DATA = "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7";

class StopBeforeApply extends Error {}

export async function makeSample(path: string): Promise<void> {
  const file = await NodeFileBackend.open(path, { create: "overwrite" });
  await createImage(file, {
    type: "dynamic",
    virtualSize: SIZE,
    blockSize: BLOCK,
    logSize: MiB,
    creator: "VHDX Studio sample",
  });
  await file.close();

  // Session 1: a partition table, some files' worth of data, and a few blocks in other states.
  let img = await openImage(await NodeFileBackend.open(path, { readOnly: false }), { readOnly: false });
  const w = new VhdxWriter(img);
  const { primary, backup } = gpt(SIZE / SECTOR);
  await w.write(0, primary);
  await w.write(SIZE - backup.length, backup);
  const text = new TextEncoder();
  await w.write(
    1 * MiB,
    text.encode("VHDX Studio sample disk. Everything here was written by the engine itself.\n".repeat(40)),
  );
  await w.write(3 * MiB + 777, pattern(200_000, 3));
  for (let b = 8; b < 17; b += 4) await w.write(b * MiB + 4096, pattern(64 * 1024, b));
  await w.write(40 * MiB - 100, pattern(300, 40)); // spans two blocks
  const states = new BatUpdate(img);
  for (const b of [120, 121, 122]) states.setEntry(payloadEntryIndex(img.geometry, b), PAYLOAD_BLOCK_ZERO, 0);
  for (const b of [130, 131]) states.setEntry(payloadEntryIndex(img.geometry, b), PAYLOAD_BLOCK_UNMAPPED, 0);
  await w.commit(states);
  await w.close();

  // Session 2: an allocating write whose BAT update reaches the log but not the BAT.
  img = await openImage(await NodeFileBackend.open(path, { readOnly: false }), { readOnly: false });
  const dirty = new VhdxWriter(img, {
    afterLogFlush: () => {
      throw new StopBeforeApply();
    },
  });
  try {
    await dirty.write(
      200 * MiB + 512,
      text.encode("This sector was written just before the power went out; only the log knows.\n".repeat(50)),
    );
    throw new Error("the sample's last write was expected to stop after its log flush");
  } catch (e) {
    if (!(e instanceof StopBeforeApply)) throw e;
  }
  await img.file.close();
}

/** Deterministic bytes with some structure, so the hex view has something to show. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i % 64 < 16 ? 0x20 + (i % 64) : x & 0xff;
  }
  return out;
}

/** A protective MBR, a GPT header and entry array (primary at LBA 1–33, backup at the end). */
function gpt(sectors: number): { primary: Uint8Array; backup: Uint8Array } {
  const entriesBytes = GPT_ENTRIES * 128;
  const entrySectors = entriesBytes / SECTOR;
  const firstUsable = 2 + entrySectors;
  const lastUsable = sectors - 2 - entrySectors;
  const entries = new Uint8Array(entriesBytes);
  writeGuid(entries, 0, BASIC_DATA);
  writeGuid(entries, 16, PART_GUID);
  const ev = new DataView(entries.buffer);
  ev.setBigUint64(32, 2048n, true);
  ev.setBigUint64(40, BigInt(lastUsable), true);
  const name = "VHDX Studio sample";
  for (let i = 0; i < name.length; i++) ev.setUint16(56 + i * 2, name.charCodeAt(i), true);
  const entriesCrc = crc32(entries);

  const header = (current: number, other: number, entriesLba: number): Uint8Array => {
    const h = new Uint8Array(SECTOR);
    const v = new DataView(h.buffer);
    h.set(new TextEncoder().encode("EFI PART"), 0);
    v.setUint32(8, 0x00010000, true);
    v.setUint32(12, 92, true);
    v.setBigUint64(24, BigInt(current), true);
    v.setBigUint64(32, BigInt(other), true);
    v.setBigUint64(40, BigInt(firstUsable), true);
    v.setBigUint64(48, BigInt(lastUsable), true);
    writeGuid(h, 56, DISK_GUID);
    v.setBigUint64(72, BigInt(entriesLba), true);
    v.setUint32(80, GPT_ENTRIES, true);
    v.setUint32(84, 128, true);
    v.setUint32(88, entriesCrc, true);
    v.setUint32(16, crc32(h.subarray(0, 92)), true);
    return h;
  };

  const primary = new Uint8Array(SECTOR * (2 + entrySectors));
  const mbr = new DataView(primary.buffer);
  primary[446 + 4] = 0xee; // protective partition
  primary[446 + 1] = 0x00;
  primary[446 + 2] = 0x02;
  mbr.setUint32(446 + 8, 1, true);
  mbr.setUint32(446 + 12, Math.min(sectors - 1, 0xffffffff), true);
  primary[446 + 5] = 0xff;
  primary[446 + 6] = 0xff;
  primary[446 + 7] = 0xff;
  primary[510] = 0x55;
  primary[511] = 0xaa;
  primary.set(header(1, sectors - 1, 2), SECTOR);
  primary.set(entries, 2 * SECTOR);
  const backup = new Uint8Array(SECTOR * (entrySectors + 1));
  backup.set(entries, 0);
  backup.set(header(sectors - 1, 1, sectors - 1 - entrySectors), entriesBytes);
  return { primary, backup };
}

/** CRC-32 (IEEE 802.3), as GPT uses. */
function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    c ^= data[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
