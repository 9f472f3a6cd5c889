/** Hand-built NTFS structures: LZNT1 chunks, runlists, reparse points, fixups. */
import { describe, expect, it } from "vitest";
import { FsError } from "../../../src/fs/errors";
import { applyFixups } from "../../../src/fs/ntfs/fixup";
import { decompressLznt1 } from "../../../src/fs/ntfs/lznt1";
import { parseReparsePoint, IO_REPARSE_TAG_SYMLINK, IO_REPARSE_TAG_MOUNT_POINT } from "../../../src/fs/ntfs/reparse";
import { decodeRunlist } from "../../../src/fs/ntfs/runlist";

describe("LZNT1", () => {
  it("decodes literals and a back-reference that repeats itself", () => {
    // "abc" then a reference 3 back, 9 long: "abcabcabcabc". At position 3 the split is 12 bits of length.
    const token = ((3 - 1) << 12) | (9 - 3);
    const body = [0b1000, 0x61, 0x62, 0x63, token & 0xff, token >> 8];
    const header = 0x8000 | (body.length + 2 - 3);
    const src = Uint8Array.from([header & 0xff, header >> 8, ...body]);
    const out = new Uint8Array(16);
    expect(decompressLznt1(src, out, 0)).toBe(12);
    expect(new TextDecoder().decode(out.subarray(0, 12))).toBe("abcabcabcabc");
  });

  it("copies an uncompressed chunk as it is", () => {
    const data = Uint8Array.from({ length: 4096 }, (_, i) => i & 255);
    const header = 4096 - 1 + 2 - 3 + 1; // stored size 4098 − 3, flag clear
    const src = new Uint8Array(2 + 4096);
    src[0] = header & 0xff;
    src[1] = (header >> 8) & 0x0f;
    src.set(data, 2);
    const out = new Uint8Array(4096);
    decompressLznt1(src, out, 0);
    expect(out).toEqual(data);
  });

  it("refuses a back-reference before the chunk's start", () => {
    const token = (5 - 1) << 12;
    const body = [0b10, 0x61, token & 0xff, token >> 8];
    const header = 0x8000 | (body.length + 2 - 3);
    expect(() =>
      decompressLznt1(Uint8Array.from([header & 0xff, header >> 8, ...body]), new Uint8Array(64), 0),
    ).toThrow(FsError);
  });
});

describe("runlists", () => {
  it("decodes lengths, signed LCN deltas and sparse runs", () => {
    // 0x21: 1-byte length 0x10, 2-byte LCN 0x1000; 0x01: sparse 8; 0x11: length 4, delta -0x10.
    const b = Uint8Array.from([0x21, 0x10, 0x00, 0x10, 0x01, 0x08, 0x11, 0x04, 0xf0, 0x00]);
    expect(decodeRunlist(b, 0, b.length, 0, 1 << 20, 0)).toEqual([
      { vcn: 0, length: 16, lcn: 0x1000 },
      { vcn: 16, length: 8, lcn: null },
      { vcn: 24, length: 4, lcn: 0x0ff0 },
    ]);
  });

  it("refuses a run outside the volume", () => {
    const b = Uint8Array.from([0x21, 0x10, 0x00, 0x10, 0x00]);
    expect(() => decodeRunlist(b, 0, b.length, 0, 0x1005, 0)).toThrow(/outside the volume/);
  });
});

describe("reparse points", () => {
  const name = (s: string) => Array.from(s).flatMap((c) => [c.charCodeAt(0), 0]);
  it("reads a symbolic link's print name and a junction's", () => {
    const sub = name("\\??\\C:\\target");
    const print = name("C:\\target");
    const data = [sub.length ? 0 : 0, 0, sub.length, 0, sub.length, 0, print.length, 0, 0, 0, 0, 0, ...sub, ...print];
    const v = Uint8Array.from([0x0c, 0, 0, 0xa0, data.length, 0, 0, 0, ...data]);
    expect(parseReparsePoint(v)).toEqual({ tag: IO_REPARSE_TAG_SYMLINK, target: "C:\\target", kind: "symlink" });
    const j = [0, 0, sub.length, 0, sub.length, 0, print.length, 0, ...sub, ...print];
    const jv = Uint8Array.from([0x03, 0, 0, 0xa0, j.length, 0, 0, 0, ...j]);
    expect(parseReparsePoint(jv)).toEqual({ tag: IO_REPARSE_TAG_MOUNT_POINT, target: "C:\\target", kind: "junction" });
  });
});

describe("fixups", () => {
  it("restores each sector's last two bytes and refuses a torn sector", () => {
    const rec = new Uint8Array(1024);
    rec.set([0x46, 0x49, 0x4c, 0x45, 0x30, 0, 3, 0]);
    rec.set([0x07, 0x00, 0xaa, 0xbb, 0xcc, 0xdd], 0x30);
    rec.set([0x07, 0x00], 510);
    rec.set([0x07, 0x00], 1022);
    const ok = rec.slice();
    applyFixups(ok, "MFT record 0", 0);
    expect([ok[510], ok[511], ok[1022], ok[1023]]).toEqual([0xaa, 0xbb, 0xcc, 0xdd]);
    const torn = rec.slice();
    torn[1022] = 0;
    expect(() => applyFixups(torn, "MFT record 0", 0)).toThrow(/torn/);
  });
});
