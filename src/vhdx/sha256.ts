/**
 * SHA-256 (FIPS 180-4) fed piece by piece, for hashing a file as it streams past: WebCrypto's
 * digest takes the whole input at once, which for a disk image means holding the file.
 */
import type { RandomAccess } from "./io";

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

export class Sha256 {
  private readonly h = new Uint32Array(INITIAL);
  private readonly w = new Uint32Array(64);
  /** A partial 64-byte block waiting for more input. */
  private readonly pending = new Uint8Array(64);
  private pendingLength = 0;
  private total = 0;
  private done = false;

  update(data: Uint8Array): this {
    if (this.done) throw new Error("Sha256: update after digest");
    this.total += data.length;
    let i = 0;
    if (this.pendingLength > 0) {
      const n = Math.min(64 - this.pendingLength, data.length);
      this.pending.set(data.subarray(0, n), this.pendingLength);
      this.pendingLength += n;
      i = n;
      if (this.pendingLength < 64) return this;
      this.block(this.pending, 0);
      this.pendingLength = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.block(data, i);
    this.pending.set(data.subarray(i), 0);
    this.pendingLength = data.length - i;
    return this;
  }

  /** The 32-byte digest; the hash takes no more input afterwards. */
  digest(): Uint8Array {
    if (this.done) throw new Error("Sha256: digest twice");
    const bits = this.total * 8;
    const tail = new Uint8Array(this.pendingLength + 9 <= 64 ? 64 : 128);
    tail.set(this.pending.subarray(0, this.pendingLength));
    tail[this.pendingLength] = 0x80;
    const dv = new DataView(tail.buffer);
    dv.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
    dv.setUint32(tail.length - 4, bits >>> 0);
    for (let i = 0; i < tail.length; i += 64) this.block(tail, i);
    this.done = true;
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setUint32(i * 4, this.h[i]);
    return out;
  }

  private block(b: Uint8Array, at: number): void {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      const j = at + t * 4;
      w[t] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    const h = this.h;
    let a = h[0],
      bb = h[1],
      c = h[2],
      d = h[3],
      e = h[4],
      f = h[5],
      g = h[6],
      hh = h[7];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & bb) ^ (a & c) ^ (bb & c);
      const t2 = (S0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = bb;
      bb = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
}

export function hexDigest(d: Uint8Array): string {
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Bytes read at a time while hashing a file: memory stays at one piece. */
export const HASH_PIECE = 4 * 1024 * 1024;

/**
 * The SHA-256 of the whole file behind `io`, read piece by piece in order. `onProgress` hears
 * the bytes hashed so far after each piece and may throw to stop (a cancel).
 */
export async function sha256OfFile(
  io: RandomAccess,
  onProgress?: (done: number, total: number) => void,
): Promise<string> {
  const size = await io.size();
  const h = new Sha256();
  for (let at = 0; at < size; at += HASH_PIECE) {
    h.update(await io.read(at, Math.min(HASH_PIECE, size - at)));
    onProgress?.(Math.min(size, at + HASH_PIECE), size);
  }
  return hexDigest(h.digest());
}
