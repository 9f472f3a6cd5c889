/**
 * Directory indexes: $INDEX_ROOT (resident, the B+ tree's root node) and the INDX records of
 * $INDEX_ALLOCATION (fixed-up nodes below it). Each node holds index entries: a file reference,
 * the key (a $FILE_NAME), and for a node with children the VCN of the sub-node before it.
 * A directory's whole index is walked by `indexWalk.ts`, straight from the nodes' bytes.
 */
import { FsError } from "../errors";
import { fileReference, u16, u32, u64 } from "./bytes";
import { parseFileName, type FileName } from "./fileName";

export const INDEX_ENTRY_NODE = 0x1;
export const INDEX_ENTRY_END = 0x2;

export interface IndexEntry {
  record: number;
  sequence: number;
  key: FileName | null;
  /** The sub-node's VCN, for an entry with children. */
  child: number | null;
}

/** Entries of the node whose header starts at `at` of `b` (the header's offsets count from it). */
export function parseIndexNode(b: Uint8Array, at: number, structure: string, offset: number): IndexEntry[] {
  const first = at + u32(b, at);
  const end = at + u32(b, at + 4);
  if (first < at + 16 || end > b.length || first > end) {
    throw new FsError("FS_CORRUPT", `index entries [${first}, ${end}) outside the node`, structure, offset + at);
  }
  const out: IndexEntry[] = [];
  let p = first;
  for (let n = 0; p + 16 <= end && n < 65536; n++) {
    const length = u16(b, p + 8);
    const keyLength = u16(b, p + 10);
    const flags = u16(b, p + 12);
    if (length < 16 || p + length > end || 16 + keyLength > length) {
      throw new FsError(
        "FS_CORRUPT",
        `an index entry of ${length} bytes that does not fit the node`,
        structure,
        offset + p,
      );
    }
    const child = flags & INDEX_ENTRY_NODE ? u64(b, p + length - 8, structure, offset) : null;
    const ref = fileReference(b, p);
    const key =
      !(flags & INDEX_ENTRY_END) && keyLength >= 0x42
        ? parseFileName(b.subarray(p + 16, p + 16 + keyLength), offset + p + 16)
        : null;
    out.push({ record: ref.record, sequence: ref.sequence, key, child });
    if (flags & INDEX_ENTRY_END) return out;
    p += length;
  }
  throw new FsError("FS_CORRUPT", "an index node without its last entry", structure, offset + at);
}

/** $INDEX_ROOT: the indexed attribute type, the index record size and the root node's entries. */
export function parseIndexRoot(
  v: Uint8Array,
  offset: number,
): { type: number; recordSize: number; entries: IndexEntry[] } {
  if (v.length < 0x20) throw new FsError("FS_CORRUPT", "an $INDEX_ROOT shorter than its header", "$INDEX_ROOT", offset);
  return { type: u32(v, 0), recordSize: u32(v, 8), entries: parseIndexNode(v, 0x10, "$INDEX_ROOT", offset) };
}
