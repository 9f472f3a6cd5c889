import { describe, expect, it } from "vitest";
import { crc32c, crc32cUpdate, crc32cWithZeroField } from "../../src/vhdx/crc32c";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("CRC-32C", () => {
  it("matches the standard check value crc32c('123456789') = 0xE3069283", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
  });

  // RFC 3720 appendix B.4 test vectors (iSCSI uses CRC-32C).
  it("matches the RFC 3720 B.4 vectors", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it("is 0 for no bytes", () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("gives the same value in pieces as in one go, at every split (slicing-by-8 and tail paths)", () => {
    const data = Uint8Array.from({ length: 61 }, (_, i) => (i * 37 + 11) & 0xff);
    const whole = crc32c(data);
    for (let k = 0; k <= data.length; k++) {
      expect(crc32cUpdate(crc32cUpdate(0, data.subarray(0, k)), data.subarray(k))).toBe(whole);
    }
  });

  it("agrees with a bit-at-a-time reference at every length and alignment (word and byte paths)", () => {
    const bitwise = (b: Uint8Array) => {
      let c = 0xffffffff;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return ~c >>> 0;
    };
    const buf = Uint8Array.from({ length: 4200 }, (_, i) => (i * 131 + 7) & 0xff);
    for (const start of [0, 1, 2, 3, 4, 8]) {
      for (const len of [0, 3, 7, 8, 9, 15, 16, 17, 64, 4093, 4096]) {
        const view = buf.subarray(start, start + len);
        expect(crc32c(view)).toBe(bitwise(view));
      }
    }
  });

  it("takes the checksum field as zero", () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
    const zeroed = data.slice();
    zeroed.fill(0, 4, 8);
    expect(crc32cWithZeroField(data, 4)).toBe(crc32c(zeroed));
  });
});
