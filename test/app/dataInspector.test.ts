import { describe, expect, it } from "vitest";
import { decodeField, encodeField, FIELDS, type FieldId } from "../../src/app/lib/dataInspector";

const bytes = (...b: number[]) => Uint8Array.from(b);
const enc = (id: FieldId, text: string, little = true) => {
  const r = encodeField(id, text, little);
  if (!r.ok) throw new Error(r.error);
  return Array.from(r.bytes);
};

describe("data inspector: integers against Node's Buffer", () => {
  // Pseudo-random bytes, fixed seed: each width and order read by Buffer and by the inspector.
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  const samples = Array.from({ length: 50 }, () => Buffer.from(Array.from({ length: 16 }, next)));
  samples.push(
    Buffer.alloc(16, 0xff),
    Buffer.alloc(16, 0),
    Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0x80, 1, 2, 3, 4, 5, 6, 7, 8]),
  );
  it("u8 … i64, both byte orders", () => {
    for (const b of samples) {
      const u = new Uint8Array(b);
      expect(decodeField("u8", u, true)).toBe(String(b.readUInt8(0)));
      expect(decodeField("i8", u, false)).toBe(String(b.readInt8(0)));
      expect(decodeField("u16", u, true)).toBe(String(b.readUInt16LE(0)));
      expect(decodeField("u16", u, false)).toBe(String(b.readUInt16BE(0)));
      expect(decodeField("i16", u, true)).toBe(String(b.readInt16LE(0)));
      expect(decodeField("i16", u, false)).toBe(String(b.readInt16BE(0)));
      expect(decodeField("u32", u, true)).toBe(String(b.readUInt32LE(0)));
      expect(decodeField("u32", u, false)).toBe(String(b.readUInt32BE(0)));
      expect(decodeField("i32", u, true)).toBe(String(b.readInt32LE(0)));
      expect(decodeField("i32", u, false)).toBe(String(b.readInt32BE(0)));
      expect(decodeField("u64", u, true)).toBe(String(b.readBigUInt64LE(0)));
      expect(decodeField("u64", u, false)).toBe(String(b.readBigUInt64BE(0)));
      expect(decodeField("i64", u, true)).toBe(String(b.readBigInt64LE(0)));
      expect(decodeField("i64", u, false)).toBe(String(b.readBigInt64BE(0)));
    }
  });
  it("writes what Buffer writes, and refuses values out of range", () => {
    const b = Buffer.alloc(8);
    b.writeInt16BE(-2);
    expect(enc("i16", "-2", false)).toEqual(Array.from(b.subarray(0, 2)));
    b.writeUInt32LE(0xdeadbeef);
    expect(enc("u32", "0xdeadbeef")).toEqual(Array.from(b.subarray(0, 4)));
    b.writeBigInt64LE(-9223372036854775808n);
    expect(enc("i64", "-9223372036854775808")).toEqual(Array.from(b));
    b.writeBigUInt64BE(18446744073709551615n);
    expect(enc("u64", "18446744073709551615", false)).toEqual(Array.from(b));
    expect(enc("u8", "0b1010")).toEqual([10]);
    expect(encodeField("u8", "256", true)).toMatchObject({ ok: false, error: "u8 holds 0 to 255" });
    expect(encodeField("i16", "-32769", true)).toMatchObject({ ok: false });
    expect(encodeField("u16", "-1", true)).toMatchObject({ ok: false });
    expect(encodeField("u32", "12.5", true)).toMatchObject({ ok: false });
  });
  it("round-trips every integer field it decodes", () => {
    for (const b of samples)
      for (const f of FIELDS.filter((x) => /^[ui]\d+$/.test(x.id)))
        for (const little of [true, false]) {
          const u = new Uint8Array(b);
          const text = decodeField(f.id, u, little) as string;
          expect(enc(f.id, text, little)).toEqual(Array.from(u.subarray(0, f.size)));
        }
  });
});

describe("data inspector: floats against DataView", () => {
  it("reads and writes float32 and float64 in both orders", () => {
    const b = Buffer.alloc(8);
    b.writeFloatLE(1.5);
    expect(decodeField("f32", new Uint8Array(b), true)).toBe("1.5");
    b.writeFloatBE(0.1);
    expect(decodeField("f32", new Uint8Array(b), false)).toBe("0.1"); // not 0.10000000149011612
    expect(enc("f32", "0.1", false)).toEqual(Array.from(b.subarray(0, 4)));
    b.writeDoubleLE(-1234.5678e100);
    expect(decodeField("f64", new Uint8Array(b), true)).toBe(String(-1234.5678e100));
    expect(enc("f64", "-1234.5678e100")).toEqual(Array.from(b));
    expect(decodeField("f64", bytes(0, 0, 0, 0, 0, 0, 0xf0, 0x7f), true)).toBe("Infinity");
    expect(enc("f32", "-Infinity")).toEqual([0, 0, 0x80, 0xff]);
    expect(encodeField("f64", "one", true)).toMatchObject({ ok: false });
  });
});

describe("data inspector: GUID, times, characters, bits", () => {
  it("reads a GUID in the mixed-endian layout VHDX stores (the BAT region's GUID, §2.2.3.1)", () => {
    // 2DC27766-F623-4200-9D64-115E9BFD4A08 as it lies in a region table entry.
    const onDisk = bytes(
      0x66,
      0x77,
      0xc2,
      0x2d,
      0x23,
      0xf6,
      0x00,
      0x42,
      0x9d,
      0x64,
      0x11,
      0x5e,
      0x9b,
      0xfd,
      0x4a,
      0x08,
    );
    expect(decodeField("guid", onDisk, false)).toBe("2dc27766-f623-4200-9d64-115e9bfd4a08");
    expect(enc("guid", "{2DC27766-F623-4200-9D64-115E9BFD4A08}")).toEqual(Array.from(onDisk));
    expect(encodeField("guid", "2dc27766", true)).toMatchObject({ ok: false });
  });
  it("reads FILETIME as UTC with 100 ns digits", () => {
    // 116444736000000000 = 0x019DB1DED53E8000: the Unix epoch.
    const epoch = bytes(0x00, 0x80, 0x3e, 0xd5, 0xde, 0xb1, 0x9d, 0x01);
    expect(decodeField("filetime", epoch, true)).toBe("1970-01-01T00:00:00Z");
    expect(decodeField("filetime", new Uint8Array(8), true)).toBe("1601-01-01T00:00:00Z");
    // 2000-01-01T00:00:00Z is 946684800 s after 1970: 116444736000000000 + 9466848000000000 = 0x01BF53EB256D4000.
    const y2k = Buffer.alloc(8);
    y2k.writeBigUInt64LE(0x01bf53eb256d4000n);
    expect(decodeField("filetime", new Uint8Array(y2k), false)).toBe("2000-01-01T00:00:00Z"); // order ignored
    y2k.writeBigUInt64LE(0x01bf53eb256d4000n + 1234567n);
    expect(decodeField("filetime", new Uint8Array(y2k), true)).toBe("2000-01-01T00:00:00.1234567Z");
    expect(enc("filetime", "2000-01-01T00:00:00.1234567Z")).toEqual(Array.from(y2k));
    expect(enc("filetime", "1970-01-01")).toEqual(Array.from(epoch));
  });
  it("reads a 32-bit Unix time in the chosen order", () => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(1700000000); // 2023-11-14T22:13:20Z
    expect(decodeField("unix32", new Uint8Array(b), false)).toBe("2023-11-14T22:13:20Z");
    expect(enc("unix32", "2023-11-14T22:13:20Z", false)).toEqual(Array.from(b));
    expect(encodeField("unix32", "2023-11-14T22:13:20.5Z", true)).toMatchObject({ ok: false });
    expect(encodeField("unix32", "1960-01-01", true)).toMatchObject({ ok: false });
  });
  it("reads UTF-8 and UTF-16 characters, naming controls", () => {
    expect(decodeField("utf8", bytes(0xe2, 0x82, 0xac, 0), true)).toBe("€ (U+20AC)");
    expect(decodeField("utf8", bytes(0xf0, 0x9f, 0x98, 0x80), true)).toBe("😀 (U+1F600)");
    expect(decodeField("utf8", bytes(0x0a), true)).toBe("U+000A");
    expect(decodeField("utf8", bytes(0xc0, 0x80), true)).toBeNull(); // overlong
    expect(decodeField("utf8", bytes(0xe2, 0x82), true)).toBeNull(); // cut short
    expect(decodeField("utf16", bytes(0x3d, 0xd8, 0x00, 0xde), true)).toBe("😀 (U+1F600)");
    expect(decodeField("utf16", bytes(0x00, 0x41), false)).toBe("A (U+0041)");
    expect(decodeField("utf16", bytes(0x00, 0xdc), true)).toBeNull();
    expect(enc("utf8", "€")).toEqual([0xe2, 0x82, 0xac]);
    expect(enc("utf16", "😀")).toEqual(Array.from(Buffer.from("😀", "utf16le")));
    expect(enc("utf16", "A", false)).toEqual([0, 0x41]);
    expect(encodeField("utf8", "ab", true)).toMatchObject({ ok: false });
  });
  it("shows bits and writes them back", () => {
    expect(decodeField("binary", bytes(0xa5), true)).toBe("10100101");
    expect(enc("binary", "1010 0101")).toEqual([0xa5]);
    expect(encodeField("binary", "2", true)).toMatchObject({ ok: false });
  });
  it("shows nothing for a field longer than the bytes left", () => {
    expect(decodeField("u32", bytes(1, 2, 3), true)).toBeNull();
    expect(decodeField("guid", new Uint8Array(15), true)).toBeNull();
    expect(decodeField("u8", new Uint8Array(0), true)).toBeNull();
  });
});
