/**
 * Walking a directory's $I30 index in the B+ tree's order: the root node from $INDEX_ROOT, the
 * INDX records below it from $INDEX_ALLOCATION, read a 1 MiB piece at a time. Entries are parsed
 * straight from the node's bytes, with no object per index entry: the caller's `make` turns each
 * key into the one item it lists (or skips it), and items go out a run at a time, so a folder of
 * 100,000 names costs a few hundred awaits, not one per name.
 */
import { FsError } from "../errors";
import type { BlockDevice } from "../types";
import { AT_INDEX_ALLOCATION, AT_INDEX_ROOT, type Attribute } from "./attribute";
import { u16, u32 } from "./bytes";
import { applyFixups } from "./fixup";
import { INDEX_ENTRY_END, INDEX_ENTRY_NODE, parseIndexRoot } from "./indexNode";
import { readStream, streamExtents, streamOf, type Stream } from "./stream";

/** Bytes of a directory's $INDEX_ALLOCATION read at once. */
const INDEX_PIECE = 1024 * 1024;
/** Items gathered before a run goes out. */
const RUN = 4096;
/** Entries one node may hold before it is called corrupt (as many as fit 64 KiB at 16 bytes). */
const MAX_NODE_ENTRIES = 65536;
const MAX_DEPTH = 64;

/**
 * Makes the listed item of the index entry whose key (a $FILE_NAME of `keyLength` bytes, checked
 * to hold its name) starts at `k` of `b`; null leaves the entry out. `b` is reused after the call.
 */
export type EntryMaker<T> = (b: Uint8Array, k: number, keyLength: number, record: number, sequence: number) => T | null;

export interface IndexOwner {
  device: BlockDevice;
  bytesPerCluster: number;
  /** The boot sector's index record size, where $INDEX_ROOT gives none. */
  indexRecordSize: number;
}

/** One node being walked: its bytes, where its next entry lies, and whether that entry's sub-node was walked. */
interface Frame {
  b: Uint8Array;
  p: number;
  end: number;
  entries: number;
  descended: boolean;
  structure: string;
  offset: number;
}

/** The node whose header starts at `at` of `b`: its entries' span, checked to lie inside it. */
function frameOf(b: Uint8Array, at: number, structure: string, offset: number): Frame {
  if (at + 16 > b.length) throw new FsError("FS_CORRUPT", "an index node shorter than its header", structure, offset);
  const first = at + u32(b, at);
  const end = at + u32(b, at + 4);
  if (first < at + 16 || end > b.length || first > end) {
    throw new FsError("FS_CORRUPT", `index entries [${first}, ${end}) outside the node`, structure, offset + at);
  }
  return { b, p: first, end, entries: 0, descended: false, structure, offset };
}

/**
 * The listed items of a directory (its MFT record's attributes given), in the index's order, a
 * run at a time. Each node is read once; the walk is bounded by the allocation's size and depth.
 */
export async function* walkIndex<T>(
  owner: IndexOwner,
  attributes: readonly Attribute[],
  recordNumber: number,
  path: string,
  make: EntryMaker<T>,
): AsyncGenerator<T[]> {
  const where = path || "/";
  const root = attributes.find((a) => a.type === AT_INDEX_ROOT && a.name === "$I30");
  if (!root?.value)
    throw new FsError("FS_CORRUPT", `${where}: a directory without an $I30 index root`, `MFT record ${recordNumber}`);
  const { recordSize } = parseIndexRoot(root.value, root.recordOffset);
  const allocPieces = attributes.filter((a) => a.type === AT_INDEX_ALLOCATION && a.name === "$I30");
  const alloc: Stream | null = allocPieces.length
    ? streamOf(allocPieces, owner.bytesPerCluster, `${where} $INDEX_ALLOCATION`)
    : null;
  const size = recordSize || owner.indexRecordSize;
  const maxNodes = alloc ? Math.ceil(alloc.dataSize / size) : 0;
  const cb = owner.bytesPerCluster;
  const runs = alloc ? [...streamExtents(alloc)] : [];
  const seen = new Set<number>();
  // The last few pieces of the allocation kept: nodes mostly lie in order.
  const pieces = new Map<number, Uint8Array>();
  const node = async (at: number): Promise<Uint8Array> => {
    const p = Math.floor(at / INDEX_PIECE);
    if (at + size > (p + 1) * INDEX_PIECE) return (await readStream(owner.device, alloc!, at, size)).slice();
    let bytes = pieces.get(p);
    if (!bytes) {
      bytes = await readStream(
        owner.device,
        alloc!,
        p * INDEX_PIECE,
        Math.min(INDEX_PIECE, alloc!.dataSize - p * INDEX_PIECE),
      );
      if (pieces.size >= 4) pieces.delete(pieces.keys().next().value!);
      pieces.set(p, bytes);
    }
    // A copy: fixups are applied in place.
    return bytes.slice(at - p * INDEX_PIECE, at - p * INDEX_PIECE + size);
  };

  const stack: Frame[] = [frameOf(root.value, 0x10, "$INDEX_ROOT", root.recordOffset)];
  let run: T[] = [];
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    const { b, p } = f;
    if (p + 16 > f.end || f.entries >= MAX_NODE_ENTRIES)
      throw new FsError("FS_CORRUPT", "an index node without its last entry", f.structure, f.offset + p);
    const length = u16(b, p + 8);
    const keyLength = u16(b, p + 10);
    const flags = u16(b, p + 12);
    if (length < 16 || p + length > f.end || 16 + keyLength > length) {
      throw new FsError(
        "FS_CORRUPT",
        `an index entry of ${length} bytes that does not fit the node`,
        f.structure,
        f.offset + p,
      );
    }
    if (flags & INDEX_ENTRY_NODE && !f.descended) {
      // The sub-node holds the keys before this entry's: walk it first.
      f.descended = true;
      const hi = u32(b, p + length - 4);
      if (hi >= 0x200000)
        throw new FsError(
          "FS_CORRUPT",
          "a 64-bit field holds a value past 2^53",
          f.structure,
          f.offset + p + length - 4,
        );
      const vcn = hi * 0x100000000 + u32(b, p + length - 8);
      const at = size >= cb ? vcn * cb : vcn * 512;
      if (!alloc || seen.has(at) || seen.size >= maxNodes || at + size > alloc.dataSize) {
        throw new FsError(
          "FS_CORRUPT",
          `${where}: index entry points at sub-node VCN ${vcn}, outside or already read`,
          "index",
        );
      }
      if (stack.length > MAX_DEPTH)
        throw new FsError("FS_CORRUPT", `${where}: an index deeper than ${MAX_DEPTH} levels`, "index");
      seen.add(at);
      if (run.length >= RUN) {
        yield run;
        run = [];
      }
      const raw = await node(at);
      const x = runs.find((r) => at >= r.fileOffset && at < r.fileOffset + r.length);
      const offset = x?.deviceOffset != null ? x.deviceOffset + at - x.fileOffset : 0;
      const structure = `index record at VCN ${vcn}`;
      if (raw[0] !== 0x49 || raw[1] !== 0x4e || raw[2] !== 0x44 || raw[3] !== 0x58)
        throw new FsError("FS_CORRUPT", 'an index record that does not start with "INDX"', structure, offset);
      applyFixups(raw, structure, offset);
      stack.push(frameOf(raw, 0x18, structure, offset));
      continue;
    }
    if (!(flags & INDEX_ENTRY_END) && keyLength >= 0x42) {
      const k = p + 16;
      if (0x42 + 2 * b[k + 0x40] > keyLength) {
        throw new FsError(
          "FS_CORRUPT",
          `a $FILE_NAME of ${keyLength} bytes is shorter than its name`,
          "$FILE_NAME",
          f.offset + k,
        );
      }
      if (u32(b, k + 0x34) >= 0x200000)
        throw new FsError("FS_CORRUPT", "a 64-bit field holds a value past 2^53", "$FILE_NAME", f.offset + k + 0x30);
      const item = make(b, k, keyLength, u32(b, p) + u16(b, p + 4) * 0x100000000, u16(b, p + 6));
      if (item !== null) run.push(item);
    }
    if (flags & INDEX_ENTRY_END) stack.pop();
    else {
      f.p = p + length;
      f.entries++;
      f.descended = false;
    }
  }
  if (run.length) yield run;
}
