import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { partitionAnnotations } from "../../src/app/lib/partitionTable";
import { crc32, parseGpt } from "../../src/fs/partitions/gpt";
import { parseMbr } from "../../src/fs/partitions/mbr";
import { parsePartitionArea as parsePartitionTable, partitionAreaLength } from "../../src/fs/partitions/volumes";

/** Writes a GUID in the on-disk mixed-endian layout, by hand from its text. */
function putGuid(b: Uint8Array, at: number, text: string): void {
  const h = text.replace(/-/g, "");
  const bytes = Array.from({ length: 16 }, (_, i) => parseInt(h.slice(i * 2, i * 2 + 2), 16));
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  order.forEach((src, i) => (b[at + i] = bytes[src]));
}

const EFI = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
const BASIC = "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7";
const DISK = "01234567-89ab-cdef-0123-456789abcdef";

/** LBA 0–33 of a 512-byte-sector GPT disk with two partitions. */
function gptDisk(): Uint8Array {
  const d = new Uint8Array(34 * 512);
  const dv = new DataView(d.buffer);
  // Protective MBR: one 0xEE partition from LBA 1.
  d[446 + 4] = 0xee;
  dv.setUint32(446 + 8, 1, true);
  dv.setUint32(446 + 12, 0xffffffff, true);
  d[510] = 0x55;
  d[511] = 0xaa;
  // Entries at LBA 2: 128 × 128 bytes.
  const e = 2 * 512;
  putGuid(d, e, EFI);
  putGuid(d, e + 16, "11111111-2222-3333-4444-555555555555");
  dv.setUint32(e + 32, 2048, true);
  dv.setUint32(e + 40, 206847, true);
  "EFI".split("").forEach((c, i) => dv.setUint16(e + 56 + i * 2, c.charCodeAt(0), true));
  putGuid(d, e + 128, BASIC);
  dv.setUint32(e + 128 + 32, 206848, true);
  dv.setUint32(e + 128 + 40, 0, true);
  dv.setUint32(e + 128 + 44, 1, true); // last LBA 2^32: the high half must count
  const entriesCrc = zlibCrc32(d.subarray(e, e + 128 * 128));
  // Header at LBA 1.
  const h = 512;
  d.set(new TextEncoder().encode("EFI PART"), h);
  dv.setUint32(h + 8, 0x00010000, true);
  dv.setUint32(h + 12, 92, true);
  dv.setUint32(h + 24, 1, true);
  dv.setUint32(h + 32, 0x3fffff, true);
  dv.setUint32(h + 40, 34, true);
  dv.setUint32(h + 48, 0x3fffde, true);
  putGuid(d, h + 56, DISK);
  dv.setUint32(h + 72, 2, true);
  dv.setUint32(h + 80, 128, true);
  dv.setUint32(h + 84, 128, true);
  dv.setUint32(h + 88, entriesCrc, true);
  dv.setUint32(h + 16, zlibCrc32(d.subarray(h, h + 92)), true);
  return d;
}

describe("MBR and GPT decoding", () => {
  it("computes CRC-32 as zlib does", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    const junk = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 255);
    expect(crc32(junk)).toBe(zlibCrc32(junk));
  });

  it("reads a protective MBR", () => {
    const mbr = parseMbr(gptDisk().subarray(0, 512))!;
    expect(mbr.signatureValid).toBe(true);
    expect(mbr.protective).toBe(true);
    expect(mbr.partitions).toEqual([
      { slot: 0, bootable: false, type: 0xee, typeName: "GPT protective", firstLba: 1, sectors: 0xffffffff },
    ]);
  });

  it("reads a classic MBR with a bootable NTFS partition", () => {
    const s = new Uint8Array(512);
    const dv = new DataView(s.buffer);
    dv.setUint32(440, 0xdeadbeef, true);
    s[446] = 0x80;
    s[446 + 4] = 0x07;
    dv.setUint32(446 + 8, 2048, true);
    dv.setUint32(446 + 12, 1_000_000, true);
    s[510] = 0x55;
    s[511] = 0xaa;
    const mbr = parseMbr(s)!;
    expect(mbr).toMatchObject({ diskSignature: 0xdeadbeef, protective: false });
    expect(mbr.partitions[0]).toMatchObject({
      bootable: true,
      typeName: "NTFS / exFAT",
      firstLba: 2048,
      sectors: 1_000_000,
    });
    expect(parseMbr(new Uint8Array(512))).toBeNull();
  });

  it("reads the GPT header and entries with both checksums", () => {
    const g = parseGpt(gptDisk(), 512)!;
    expect(g).toMatchObject({
      headerCrcValid: true,
      entriesCrcValid: true,
      diskGuid: DISK,
      entriesLba: 2,
      entryCount: 128,
      firstUsableLba: 34,
    });
    expect(g.partitions).toHaveLength(2);
    expect(g.partitions[0]).toMatchObject({
      typeGuid: EFI,
      typeName: "EFI system",
      firstLba: 2048,
      lastLba: 206847,
      name: "EFI",
    });
    expect(g.partitions[1]).toMatchObject({ typeName: "Microsoft basic data", firstLba: 206848, lastLba: 2 ** 32 });
  });

  it("notices a damaged GPT header or entry array", () => {
    const d = gptDisk();
    d[512 + 60] ^= 1;
    expect(parseGpt(d, 512)!.headerCrcValid).toBe(false);
    const d2 = gptDisk();
    d2[1024 + 33] ^= 1;
    const g2 = parseGpt(d2, 512)!;
    expect(g2.headerCrcValid).toBe(true);
    expect(g2.entriesCrcValid).toBe(false);
  });

  it("finds no GPT on a blank disk and none on a short read", () => {
    expect(parsePartitionTable(new Uint8Array(34 * 512), 512)).toEqual({ mbr: null, gpt: null });
    expect(parseGpt(gptDisk().subarray(0, 512), 512)).toBeNull();
    expect(partitionAreaLength(512)).toBe(34 * 512);
  });

  it("annotates the byte ranges for the hex view", () => {
    const a = partitionAnnotations(parsePartitionTable(gptDisk(), 512), 512);
    const at = (o: number) => a.filter((x) => o >= x.start && o < x.start + x.length).map((x) => x.label);
    expect(at(446)[0]).toMatch(/^MBR partition 1: GPT protective/);
    expect(at(511)).toEqual(["MBR signature 55 AA"]);
    expect(at(512)[0]).toMatch(/^GPT header rev 1\.0, disk 01234567-89ab-cdef-0123-456789abcdef, CRC ok/);
    expect(at(1024 + 130)[0]).toMatch(/^GPT partition 2: Microsoft basic data, LBA 206848–4294967296/);
  });
});
