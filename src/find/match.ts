/**
 * Finding a pattern in one buffer: the first (or, backward, the last) start in a range of starts
 * where the whole pattern matches. An anchor byte of the pattern is looked for with the native
 * indexOf / lastIndexOf, and only its hits are compared in full, so a buffer of data that holds
 * the anchor rarely is scanned at memcpy-like speed.
 */
import { BYTE_ANY, BYTE_EXACT, matchesAt, type Pattern } from "./pattern";

/** The position compared first, and the byte values that can stand there. */
interface Anchor {
  index: number;
  values: number[];
}

/** Bytes common on disks (zero fill, 0xFF erased flash) make poor anchors. */
const COMMON = new Set([0x00, 0xff, 0x20]);

/** An exact byte that is not common if there is one; else any exact byte; else a letter either case; null for all wildcards. */
export function anchorOf(p: Pattern): Anchor | null {
  let exact = -1;
  let fold = -1;
  for (let i = 0; i < p.bytes.length; i++) {
    if (p.kinds[i] === BYTE_EXACT) {
      if (!COMMON.has(p.bytes[i])) return { index: i, values: [p.bytes[i]] };
      if (exact < 0) exact = i;
    } else if (p.kinds[i] !== BYTE_ANY && fold < 0) fold = i;
  }
  if (exact >= 0) return { index: exact, values: [p.bytes[exact]] };
  if (fold >= 0) return { index: fold, values: [p.bytes[fold], p.bytes[fold] & ~0x20] };
  return null;
}

/**
 * The first start s in [lo, hi] (the last, when `backward`) with the pattern matching
 * buf[s, s + length); -1 when none. Starts whose pattern would run past the buffer never match.
 */
export function findIn(buf: Uint8Array, p: Pattern, lo: number, hi: number, backward = false): number {
  const n = p.bytes.length;
  lo = Math.max(0, lo);
  hi = Math.min(hi, buf.length - n);
  if (lo > hi) return -1;
  const a = anchorOf(p);
  if (!a) return backward ? hi : lo;
  const k = a.index;
  if (!backward) {
    // The next hit of each anchor value at or after `from` (an absolute anchor position).
    const next = a.values.map((v) => buf.indexOf(v, lo + k));
    for (let guard = 0; guard <= hi - lo + 1; guard++) {
      let best = -1;
      let which = -1;
      next.forEach((x, j) => {
        if (x >= 0 && (best < 0 || x < best)) {
          best = x;
          which = j;
        }
      });
      if (best < 0 || best - k > hi) return -1;
      if (matchesAt(buf, best - k, p)) return best - k;
      next[which] = buf.indexOf(a.values[which], best + 1);
    }
    return -1;
  }
  const prev = a.values.map((v) => buf.lastIndexOf(v, hi + k));
  for (let guard = 0; guard <= hi - lo + 1; guard++) {
    let best = -1;
    let which = -1;
    prev.forEach((x, j) => {
      if (x > best) {
        best = x;
        which = j;
      }
    });
    if (best < 0 || best - k < lo) return -1;
    if (matchesAt(buf, best - k, p)) return best - k;
    prev[which] = best === 0 ? -1 : buf.lastIndexOf(a.values[which], best - 1);
  }
  return -1;
}
