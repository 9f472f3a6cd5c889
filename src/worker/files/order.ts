/**
 * The Files view's sort orders. Names sort as a file manager sorts them — case ignored, digit runs
 * by their value ("file 9" before "file 10") — which is what `Intl.Collator` with `numeric` gives,
 * at a few microseconds a comparison: 100,000 names took seconds. Names of printable ASCII are
 * compared here by the same rules (the collator's root order: punctuation and symbols, then
 * digits, then letters) in a fraction of that; a name with anything else goes to the collator.
 */
import type { FsEntry } from "../../fs/types";
import { ENTRY_TYPES } from "../../fs/types";

export type SortKey = "name" | "size" | "mtime" | "type";
export interface SortOrder {
  key: SortKey;
  descending: boolean;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Punctuation and symbols of ASCII in the collator's root order (measured with Intl.Collator). */
const PUNCTUATION = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
const DIGIT = PUNCTUATION.length;
/** Rank of each ASCII code unit; -1 where the fast compare does not apply. */
const RANK = new Int16Array(128).fill(-1);
for (let i = 0; i < PUNCTUATION.length; i++) RANK[PUNCTUATION.charCodeAt(i)] = i;
for (let c = 0x30; c <= 0x39; c++) RANK[c] = DIGIT;
for (let c = 0; c < 26; c++) RANK[0x41 + c] = RANK[0x61 + c] = DIGIT + 1 + c;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** The end of the digit run starting at `i`. */
function digitsEnd(s: string, i: number): number {
  while (i < s.length && RANK[s.charCodeAt(i)] === DIGIT) i++;
  return i;
}

/** Two printable-ASCII names compared as the collator compares them (numeric, case ignored). */
export function compareAsciiNames(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ra = RANK[a.charCodeAt(i)];
    const rb = RANK[b.charCodeAt(j)];
    if (ra === DIGIT && rb === DIGIT) {
      // Digit runs by value: leading zeros skipped, then the longer run is the larger number.
      const ea = digitsEnd(a, i);
      const eb = digitsEnd(b, j);
      while (i < ea - 1 && a.charCodeAt(i) === 0x30) i++;
      while (j < eb - 1 && b.charCodeAt(j) === 0x30) j++;
      if (ea - i !== eb - j) return ea - i - (eb - j);
      for (; i < ea; i++, j++) {
        const d = a.charCodeAt(i) - b.charCodeAt(j);
        if (d !== 0) return d;
      }
      continue;
    }
    if (ra !== rb) return ra - rb;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}

export function compareNames(a: string, b: string): number {
  return PRINTABLE_ASCII.test(a) && PRINTABLE_ASCII.test(b) ? compareAsciiNames(a, b) : collator.compare(a, b);
}

const TYPE_ORDER = { dir: 0, file: 1, symlink: 2, other: 3 } as const;

/**
 * Sorts `entries` in place: folders first whatever the order (as file managers keep them), then
 * by the key, names breaking ties. Each name is tested for ASCII once, not once a comparison.
 */
export function sortEntries(entries: FsEntry[], order: SortOrder): void {
  const keyed = entries.map((e) => ({ e, ascii: PRINTABLE_ASCII.test(e.name) }));
  type K = (typeof keyed)[number];
  const byName = (a: K, b: K) =>
    a.ascii && b.ascii ? compareAsciiNames(a.e.name, b.e.name) : collator.compare(a.e.name, b.e.name);
  const key = (a: K, b: K): number => {
    switch (order.key) {
      case "size":
        return a.e.size - b.e.size || byName(a, b);
      case "mtime":
        return (a.e.mtime ?? -Infinity) - (b.e.mtime ?? -Infinity) || byName(a, b);
      case "type":
        return TYPE_ORDER[a.e.type] - TYPE_ORDER[b.e.type] || byName(a, b);
      default:
        return byName(a, b);
    }
  };
  keyed.sort((a, b) => {
    const folders = (a.e.type === "dir" ? 0 : 1) - (b.e.type === "dir" ? 0 : 1);
    if (folders !== 0) return folders;
    const c = key(a, b);
    return order.descending ? -c : c;
  });
  for (let i = 0; i < keyed.length; i++) entries[i] = keyed[i].e;
}

/** TYPE_ORDER by `ENTRY_TYPES` index. */
const TYPE_RANK = ENTRY_TYPES.map((t) => TYPE_ORDER[t]);
const DIR = ENTRY_TYPES.indexOf("dir");

/** A listing in columns, as `sortColumns` sorts it (types by `ENTRY_TYPES` index, mtime NaN for none). */
export interface SortColumns {
  names: readonly string[];
  types: Uint8Array;
  sizes: Float64Array;
  mtimes: Float64Array;
}

/**
 * The order `sortEntries` puts the entries in (folders first, the key, names breaking ties),
 * as indices into the columns: no object per entry.
 */
export function sortColumns(c: SortColumns, order: SortOrder): Uint32Array {
  const { names, types, sizes, mtimes } = c;
  const n = names.length;
  const ascii = new Uint8Array(n);
  for (let i = 0; i < n; i++) ascii[i] = PRINTABLE_ASCII.test(names[i]) ? 1 : 0;
  const byName = (a: number, b: number) =>
    ascii[a] && ascii[b] ? compareAsciiNames(names[a], names[b]) : collator.compare(names[a], names[b]);
  const time = (i: number) => (Number.isNaN(mtimes[i]) ? -Infinity : mtimes[i]);
  const key = (a: number, b: number): number => {
    switch (order.key) {
      case "size":
        return sizes[a] - sizes[b] || byName(a, b);
      case "mtime":
        return time(a) - time(b) || byName(a, b);
      case "type":
        return TYPE_RANK[types[a]] - TYPE_RANK[types[b]] || byName(a, b);
      default:
        return byName(a, b);
    }
  };
  const idx: number[] = new Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => {
    const folders = (types[a] === DIR ? 0 : 1) - (types[b] === DIR ? 0 : 1);
    if (folders !== 0) return folders;
    const k = key(a, b);
    return order.descending ? -k : k;
  });
  return Uint32Array.from(idx);
}
