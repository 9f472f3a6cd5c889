/**
 * A run of a directory's index keys ($FILE_NAME values) kept as columns of numbers: the file's
 * reference, the flags, the size and times as last indexed. The names come from the walk; an
 * entry object is made only when asked for.
 */
import { ENTRY_TYPES, type EntryColumns, type FsEntry } from "../types";
import { filetime, u32 } from "./bytes";
import { FILE_ATTRIBUTE_DIRECTORY_INDEX, FILE_ATTRIBUTE_REPARSE_POINT } from "./fileName";

const FILE = 0;
const DIR = 1;
const OTHER = 3;

const time = (b: Uint8Array, at: number): number => filetime(b, at) ?? NaN;
const orNull = (t: number): number | null => (Number.isNaN(t) ? null : t);

export class KeyColumns {
  private records: number[] = [];
  private sequences: number[] = [];
  private flags: number[] = [];
  private types: number[] = [];
  private sizes: number[] = [];
  private mtimes: number[] = [];
  private ctimes: number[] = [];
  private atimes: number[] = [];

  /** The key starting at `k` of `b` (checked by the walk to hold its name), of MFT record `file`. */
  add(b: Uint8Array, k: number, file: number, sequence: number): void {
    const flags = u32(b, k + 0x38);
    // A reparse point shows as "other" until its record is read.
    const type = flags & FILE_ATTRIBUTE_REPARSE_POINT ? OTHER : flags & FILE_ATTRIBUTE_DIRECTORY_INDEX ? DIR : FILE;
    this.records.push(file);
    this.sequences.push(sequence);
    this.flags.push(flags);
    this.types.push(type);
    this.sizes.push(type === FILE ? u32(b, k + 0x34) * 0x100000000 + u32(b, k + 0x30) : 0);
    this.mtimes.push(time(b, k + 0x10));
    this.ctimes.push(time(b, k + 0x08));
    this.atimes.push(time(b, k + 0x20));
  }

  /** The run, its names given; entries' paths start with `prefix`. */
  columns(names: string[], prefix: string): EntryColumns {
    const { records, sequences, flags, sizes, mtimes, ctimes, atimes } = this;
    return {
      names,
      types: Uint8Array.from(this.types),
      sizes: Float64Array.from(sizes),
      mtimes: Float64Array.from(mtimes),
      // Every field of a whole entry in the literal, so entries completed in place keep one shape.
      entry: (i: number): FsEntry => ({
        name: names[i],
        path: prefix + names[i],
        type: ENTRY_TYPES[this.types[i]],
        size: sizes[i],
        mtime: orNull(mtimes[i]),
        ctime: orNull(ctimes[i]),
        atime: orNull(atimes[i]),
        attributes: flags[i],
        links: undefined,
        target: undefined,
        ref: [records[i], "", sequences[i]],
        findings: undefined,
        partial: true,
      }),
    };
  }
}
