import { describe, expect, it } from "vitest";
import { view } from "../../src/vhdx/bytes";
import {
  checkHeaderSlot,
  chooseCurrentHeader,
  HEADER_OFFSETS,
  parseHeader,
  serializeHeader,
} from "../../src/vhdx/header";
import { MiB } from "../../src/vhdx/bytes";
import { expectVhdxError } from "../helpers/expectError";

const base = {
  sequenceNumber: 0xfedcba9876543210n,
  fileWriteGuid: "11111111-2222-4333-8444-555555555555",
  dataWriteGuid: "66666666-7777-4888-9999-aaaaaaaaaaaa",
  logGuid: "00000000-0000-0000-0000-000000000000",
  logVersion: 0,
  version: 1,
  logLength: MiB,
  logOffset: MiB,
};

function slot(changes: Partial<typeof base> = {}, edit?: (b: Uint8Array) => void, index: 0 | 1 = 0) {
  const b = serializeHeader({ ...base, ...changes });
  edit?.(b);
  return checkHeaderSlot(b, index);
}

describe("header (§2.2.2)", () => {
  it("round-trips every field, the full 64-bit sequence number included", () => {
    const b = serializeHeader(base);
    const h = parseHeader(b);
    expect(h).toMatchObject({ ...base, signature: "head" });
    expect(serializeHeader(h)).toEqual(b);
  });

  it("writes the layout of §2.2.2 (signature, checksum, fields at their offsets)", () => {
    const b = serializeHeader(base);
    const dv = view(b);
    expect(String.fromCharCode(...b.subarray(0, 4))).toBe("head");
    expect(dv.getBigUint64(8, true)).toBe(base.sequenceNumber);
    expect(dv.getUint16(66, true)).toBe(1);
    expect(dv.getUint32(68, true)).toBe(MiB);
    expect(dv.getUint32(72, true)).toBe(MiB);
  });

  it("a serialized header is valid", () => {
    expect(slot()).toMatchObject({ valid: true, problems: [] });
  });

  it("wrong signature", () => {
    const s = slot({}, (b) => (b[0] = 0x48));
    expect(s.valid).toBe(false);
    expect(s.problems[0].code).toBe("HEADER_INVALID");
  });

  it("wrong checksum", () => {
    const s = slot({}, (b) => (b[100] ^= 1));
    expect(s.valid).toBe(false);
    expect(s.problems[0].code).toBe("HEADER_CHECKSUM");
  });

  it("version other than 1", () => {
    expect(slot({ version: 2 }).problems[0].code).toBe("UNSUPPORTED_VERSION");
  });

  it("log offset or length not a multiple of 1 MiB", () => {
    expect(slot({ logLength: MiB + 4096 }).problems[0].code).toBe("HEADER_INVALID");
    expect(slot({ logOffset: 3 * MiB + 512 }).problems[0].code).toBe("HEADER_INVALID");
  });

  it("log inside the header section", () => {
    expect(slot({ logOffset: 0 }).problems[0].code).toBe("HEADER_INVALID");
  });

  it("log offset past 2^53 is an OUT_OF_RANGE error naming the header and the field offset", () => {
    const b = serializeHeader(base);
    view(b).setUint32(76, 0x00400000, true);
    expectVhdxError(() => parseHeader(b, HEADER_OFFSETS[1]), "OUT_OF_RANGE", "header", HEADER_OFFSETS[1] + 72);
    const s = checkHeaderSlot(b, 1);
    expect(s.valid).toBe(false);
    expect(s.problems[0].code).toBe("OUT_OF_RANGE");
  });

  it("the current header is the valid one with the greater sequence number", () => {
    const a = slot({ sequenceNumber: 5n }, undefined, 0);
    const b = slot({ sequenceNumber: 6n }, undefined, 1);
    expect(chooseCurrentHeader([a, b])).toBe(1);
    expect(chooseCurrentHeader([slot({ sequenceNumber: 7n }), b])).toBe(0);
    expect(chooseCurrentHeader([slot({ sequenceNumber: 9n }, (x) => (x[9] ^= 1)), b])).toBe(1);
    expect(chooseCurrentHeader([slot({}, (x) => (x[0] = 0)), slot({}, (x) => (x[0] = 0), 1)])).toBe(-1);
  });
});
