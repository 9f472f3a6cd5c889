/**
 * Seeded pseudo-random bytes and numbers, so every interop failure can be reproduced from its seed.
 * xorshift128+ style generator over 32-bit lanes (fast, good enough for test patterns).
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 to spread a small seed over the four lanes
    let s = seed >>> 0 || 0x9e3779b9;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  /** Uniform 32-bit unsigned integer (xoshiro128**). */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Integer in [lo, hi] (inclusive); fine for ranges below 2^53. */
  int(lo: number, hi: number): number {
    const span = hi - lo + 1;
    const r = this.u32() * 0x100000000 + this.u32();
    return lo + (r % span);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const words = n >>> 2;
    const dv = new DataView(out.buffer);
    for (let i = 0; i < words; i++) dv.setUint32(i * 4, this.u32(), true);
    for (let i = words * 4; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The pattern a seeded write puts down: the same seed always gives the same bytes. */
export function patternBytes(seed: number, length: number): Uint8Array {
  return new Rng(seed).bytes(length);
}
