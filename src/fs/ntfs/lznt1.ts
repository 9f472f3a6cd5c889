/**
 * LZNT1, the compression of NTFS compressed files: a compression unit (16 clusters) is a series
 * of chunks of up to 4 KiB, each with a 2-byte header (bits 0–11: stored size − 3; bit 15: the
 * chunk is compressed). A compressed chunk is groups of a flag byte and 8 tokens: a literal byte,
 * or a 2-byte back-reference whose split between offset and length depends on how much of the
 * chunk is already decoded.
 */
import { FsError } from "../errors";

const CHUNK = 4096;

/** Decodes `src` into `out` (the unit's length); bytes past the decoded data stay zero. Returns bytes decoded. */
export function decompressLznt1(src: Uint8Array, out: Uint8Array, offset: number): number {
  let s = 0;
  let o = 0;
  while (s + 2 <= src.length && o < out.length) {
    const header = src[s] | (src[s + 1] << 8);
    if (header === 0) break;
    const size = (header & 0xfff) + 3;
    const end = s + size;
    if (end > src.length)
      throw new FsError(
        "FS_CORRUPT",
        `an LZNT1 chunk of ${size} bytes past the unit's end`,
        "compressed data",
        offset + s,
      );
    s += 2;
    const chunkStart = o;
    const chunkEnd = Math.min(out.length, chunkStart + CHUNK);
    if (!(header & 0x8000)) {
      const n = Math.min(end - s, chunkEnd - o);
      out.set(src.subarray(s, s + n), o);
      o += n;
      s = end;
      continue;
    }
    while (s < end && o < chunkEnd) {
      const flags = src[s++];
      for (let bit = 0; bit < 8 && s < end && o < chunkEnd; bit++) {
        if (!((flags >>> bit) & 1)) {
          out[o++] = src[s++];
          continue;
        }
        if (s + 2 > end)
          throw new FsError("FS_CORRUPT", "an LZNT1 back-reference cut short", "compressed data", offset + s);
        const token = src[s] | (src[s + 1] << 8);
        s += 2;
        const pos = o - chunkStart;
        let lengthBits = 12;
        for (let i = pos - 1; i >= 0x10; i >>= 1) lengthBits--;
        const back = (token >>> lengthBits) + 1;
        let length = (token & ((1 << lengthBits) - 1)) + 3;
        if (back > pos)
          throw new FsError(
            "FS_CORRUPT",
            `an LZNT1 back-reference ${back} bytes before the chunk's start`,
            "compressed data",
            offset + s - 2,
          );
        length = Math.min(length, chunkEnd - o);
        for (let i = 0; i < length; i++, o++) out[o] = out[o - back];
      }
    }
    s = end;
    // A chunk that decodes short is followed by zeros up to its 4 KiB, unless it was the last.
    if (s + 2 <= src.length && (src[s] | (src[s + 1] << 8)) !== 0) o = chunkEnd;
  }
  return o;
}
