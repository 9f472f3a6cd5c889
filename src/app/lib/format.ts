/** Human-readable numbers for labels: sizes in binary units, offsets in hex. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const text = u === 0 ? String(v) : v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2);
  return `${text} ${UNITS[u]}`;
}

/** 0x-prefixed hex, `_` every four digits (the engine's `hex()` form). */
export function hex(n: number): string {
  const s = n.toString(16);
  if (s.length <= 4) return "0x" + s;
  const parts: string[] = [];
  for (let i = s.length; i > 0; i -= 4) parts.unshift(s.slice(Math.max(0, i - 4), i));
  return "0x" + parts.join("_");
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** "1 block", "3 blocks"; "1 entry", "2 entries" with the plural given. */
export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
