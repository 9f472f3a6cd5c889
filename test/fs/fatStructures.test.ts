/**
 * FAT and MBR structures built by hand from the specification's layouts: FAT12 entry packing,
 * FSInfo round trip, date/time fields, the long-name checksum, an EBR chain that loops.
 */
import { describe, expect, it } from "vitest";
import { MemoryDevice } from "../../src/fs/device";
import { fatEntry } from "../../src/fs/fat/fat";
import { fatTime, parseShortEntry, shortNameChecksum } from "../../src/fs/fat/dirEntry";
import { parseFsInfo, serializeFsInfo } from "../../src/fs/fat/fsInfo";
import { listVolumes } from "../../src/fs/partitions/volumes";
import { serializeMbrEntry } from "../../src/fs/partitions/mbr";
import type { FsFinding } from "../../src/fs/types";

describe("FAT structures", () => {
  it("unpacks FAT12 entries, two in three bytes (low nibble first for odd entries)", () => {
    // Entries 0..3 = 0xFF8, 0xFFF, 0x123, 0xABC packed as the specification lays them out.
    const vals = [0xff8, 0xfff, 0x123, 0xabc];
    const b = new Uint8Array(6);
    for (let n = 0; n < 4; n++) {
      const at = n + (n >> 1);
      if (n & 1) {
        b[at] |= (vals[n] << 4) & 0xf0;
        b[at + 1] = vals[n] >> 4;
      } else {
        b[at] = vals[n] & 0xff;
        b[at + 1] |= vals[n] >> 8;
      }
    }
    expect(vals.map((_, n) => fatEntry(b, "fat12", n))).toEqual(vals);
    const b32 = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
    expect(fatEntry(b32, "fat32", 0)).toBe(0x0fffffff); // the top four bits are reserved
  });

  it("FSInfo round-trips, and a sector without its signatures says so", () => {
    const info = { signaturesValid: true, freeCount: 1234, nextFree: 77 };
    expect(parseFsInfo(serializeFsInfo(info))).toEqual(info);
    expect(parseFsInfo(serializeFsInfo({ signaturesValid: false, freeCount: null, nextFree: null }))).toEqual({
      signaturesValid: false,
      freeCount: null,
      nextFree: null,
    });
  });

  it("reads date and time fields as their UTC fields, and refuses impossible ones", () => {
    const date = ((2024 - 1980) << 9) | (2 << 5) | 29; // 29 Feb 2024
    const time = (23 << 11) | (59 << 5) | 29; // 23:59:58
    expect(new Date(fatTime(date, time, 150)!).toISOString()).toBe("2024-02-29T23:59:59.500Z");
    expect(fatTime(0, 0)).toBeNull();
    expect(fatTime(((2023 - 1980) << 9) | (2 << 5) | 29, 0)).toBeNull(); // no 29 Feb in 2023
    expect(fatTime(((2023 - 1980) << 9) | (13 << 5) | 1, 0)).toBeNull();
  });

  it("computes the long-name checksum of a short name, and applies the NT lower-case flags", () => {
    const e = new Uint8Array(32);
    e.set(new TextEncoder().encode("README  TXT"), 0);
    e[12] = 0x08 | 0x10;
    expect(parseShortEntry(e, 0, false).name).toBe("readme.txt");
    e[12] = 0x10;
    expect(parseShortEntry(e, 0, false).name).toBe("README.txt");
    // Worked by hand: sum = ror(sum) + byte, modulo 256, over the 11 bytes.
    let sum = 0;
    for (const c of e.subarray(0, 11)) sum = ((sum >> 1) + ((sum & 1) << 7) + c) % 256;
    expect(shortNameChecksum(e.subarray(0, 11))).toBe(sum);
    e[0] = 0x05; // a name starting with byte 0xE5 is stored as 0x05
    expect(parseShortEntry(e, 0, false).name.charCodeAt(0)).toBe("σ".charCodeAt(0));
  });
});

describe("MBR extended partitions", () => {
  const S = 512;
  function disk(links: (b: Uint8Array, dv: DataView) => void): Uint8Array {
    const b = new Uint8Array((64 * 1024 * 1024) / 8);
    const dv = new DataView(b.buffer);
    b.set(serializeMbrEntry({ bootable: false, type: 0x05, firstLba: 100, sectors: 10_000 }), 446);
    b[510] = 0x55;
    b[511] = 0xaa;
    links(b, dv);
    return b;
  }
  const ebr = (b: Uint8Array, lba: number, rel: number, len: number, next: number) => {
    b.set(serializeMbrEntry({ bootable: false, type: 0x83, firstLba: rel, sectors: len }), lba * S + 446);
    if (next) b.set(serializeMbrEntry({ bootable: false, type: 0x05, firstLba: next, sectors: 100 }), lba * S + 462);
    b[lba * S + 510] = 0x55;
    b[lba * S + 511] = 0xaa;
  };

  it("numbers logical partitions 5, 6 … along the chain, starts relative to each EBR", async () => {
    const t = await listVolumes(new MemoryDevice(disk((b) => (ebr(b, 100, 10, 50, 200), ebr(b, 300, 20, 60, 0)))));
    expect(t.scheme).toBe("mbr");
    expect(t.volumes.map((v) => [v.number, v.start / S, v.size / S])).toEqual([
      [1, 100, 10_000],
      [5, 110, 50],
      [6, 320, 60],
    ]);
    expect(t.findings).toEqual([]);
  });

  it("stops an EBR chain that loops, with a finding", async () => {
    const t = await listVolumes(
      new MemoryDevice(disk((b) => (ebr(b, 100, 10, 50, 200), ebr(b, 300, 20, 60, 0 + 0), ebr(b, 300, 20, 60, 200)))),
    );
    expect(t.volumes.map((v) => v.number)).toEqual([1, 5, 6]);
    expect(t.findings.map((f: FsFinding) => f.code)).toEqual(["MBR_EBR_CHAIN"]);
  });
});
