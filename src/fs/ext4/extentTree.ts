/**
 * The extent tree (Documentation/filesystems/ext4/ifork.rst): a 12-byte ext4_extent_header, then
 * eh_entries 12-byte entries — ext4_extent_idx in interior nodes (eh_depth > 0), ext4_extent in
 * leaves. The root lives in i_block; other nodes fill a block and end with ext4_extent_tail.
 */
import { FsError } from "../errors";
import { ext4Checksum } from "./checksum";
import { type FileMap, pushRun } from "./fileMap";

export const EXT4_EXT_MAGIC = 0xf30a;
/** The kernel's limit on eh_depth (ifork.rst). */
export const EXT4_MAX_EXTENT_DEPTH = 5;
/** ee_len above this marks an uninitialized extent of ee_len - 32768 blocks. */
const EXT_INIT_MAX_LEN = 32768;

export interface ExtentHeader {
  magic: number;
  entries: number;
  max: number;
  depth: number;
  generation: number;
}

export interface ExtentIndex {
  /** ei_block: the first logical block this subtree covers. */
  block: number;
  /** ei_leaf_hi:ei_leaf_lo: the block of the next node down. */
  leaf: number;
}

export interface Extent {
  block: number;
  len: number;
  start: number;
  uninit: boolean;
}

export interface ExtentNode {
  header: ExtentHeader;
  indexes: ExtentIndex[];
  extents: Extent[];
}

export function parseExtentHeader(bytes: Uint8Array): ExtentHeader {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 12);
  return {
    magic: v.getUint16(0, true),
    entries: v.getUint16(2, true),
    max: v.getUint16(4, true),
    depth: v.getUint16(6, true),
    generation: v.getUint32(8, true),
  };
}

/** Decodes a node (the 60-byte root or a whole block); throws FsError naming `structure` at `offset`. */
export function parseExtentNode(bytes: Uint8Array, structure: string, offset: number): ExtentNode {
  const header = parseExtentHeader(bytes);
  const bad = (what: string) => new FsError("FS_CORRUPT", `${structure}: ${what}`, structure, offset);
  if (header.magic !== EXT4_EXT_MAGIC) throw bad(`no extent header magic (0x${header.magic.toString(16)})`);
  if (header.entries > header.max) throw bad(`eh_entries ${header.entries} exceeds eh_max ${header.max}`);
  if (12 + header.max * 12 > bytes.length) throw bad(`eh_max ${header.max} entries do not fit ${bytes.length} bytes`);
  if (header.depth > EXT4_MAX_EXTENT_DEPTH) throw bad(`eh_depth ${header.depth} exceeds ${EXT4_MAX_EXTENT_DEPTH}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const indexes: ExtentIndex[] = [];
  const extents: Extent[] = [];
  for (let i = 0; i < header.entries; i++) {
    const at = 12 + i * 12;
    if (header.depth > 0) {
      indexes.push({
        block: v.getUint32(at, true),
        leaf: v.getUint32(at + 4, true) + v.getUint16(at + 8, true) * 2 ** 32,
      });
    } else {
      const raw = v.getUint16(at + 4, true);
      extents.push({
        block: v.getUint32(at, true),
        len: raw > EXT_INIT_MAX_LEN ? raw - EXT_INIT_MAX_LEN : raw,
        start: v.getUint16(at + 6, true) * 2 ** 32 + v.getUint32(at + 8, true),
        uninit: raw > EXT_INIT_MAX_LEN,
      });
    }
  }
  return { header, indexes, extents };
}

/** ext4_extent_tail's checksum as it should read: crc32c(inode seed, the node up to the tail). */
export function extentBlockChecksum(block: Uint8Array, max: number, inodeSeed: number): number {
  return ext4Checksum(inodeSeed, block.subarray(0, 12 + max * 12));
}

export interface ExtentContext {
  inode: number;
  blockSize: number;
  blocksCount: number;
  /** Device offset of the inode's i_block, for errors about the root. */
  rootOffset: number;
  readBlock(block: number): Promise<Uint8Array>;
  /** The inode's crc32c seed when metadata_csum is on. */
  inodeSeed?: number;
}

/**
 * Walks the tree from the root in i_block to a sorted list of runs. Bounded: the depth falls by
 * one per level, each node block is read once, and every extent must start at or after the end of
 * the one before it and lie inside the volume.
 */
export async function mapExtentTree(root: Uint8Array, ctx: ExtentContext): Promise<FileMap> {
  const map: FileMap = { runs: [], mapBlocks: [], findings: [] };
  const visited = new Set<number>();
  let nextLogical = 0;
  const rootNode = parseExtentNode(root, `extent tree root of inode ${ctx.inode}`, ctx.rootOffset);

  const visit = async (node: ExtentNode, structure: string, offset: number): Promise<void> => {
    const bad = (what: string, code: "FS_CORRUPT" | "FS_OUT_OF_RANGE" = "FS_CORRUPT") =>
      new FsError(code, `${structure}: ${what}`, structure, offset);
    for (const e of node.extents) {
      if (e.len === 0) throw bad(`extent at logical block ${e.block} has no length`);
      if (e.block < nextLogical) throw bad(`extent at logical block ${e.block} overlaps the one before it`);
      if (e.start + e.len > ctx.blocksCount || e.start === 0) {
        throw bad(`extent of ${e.len} blocks at block ${e.start} lies outside the volume`, "FS_OUT_OF_RANGE");
      }
      pushRun(map.runs, e.block, e.len, e.uninit ? null : e.start);
      nextLogical = e.block + e.len;
    }
    let lastIndex = -1;
    for (const idx of node.indexes) {
      if (idx.block <= lastIndex && lastIndex >= 0) throw bad(`index entries are not in ascending order`);
      lastIndex = idx.block;
      if (idx.leaf === 0 || idx.leaf >= ctx.blocksCount) {
        throw bad(`index points at block ${idx.leaf}, outside the volume`, "FS_OUT_OF_RANGE");
      }
      if (visited.has(idx.leaf)) throw bad(`index points at block ${idx.leaf} a second time`);
      visited.add(idx.leaf);
      map.mapBlocks.push(idx.leaf);
      const childStructure = `extent block ${idx.leaf} of inode ${ctx.inode}`;
      const childOffset = idx.leaf * ctx.blockSize;
      const bytes = await ctx.readBlock(idx.leaf);
      const child = parseExtentNode(bytes, childStructure, childOffset);
      if (child.header.depth !== node.header.depth - 1) {
        throw new FsError(
          "FS_CORRUPT",
          `${childStructure}: eh_depth ${child.header.depth} under a node of depth ${node.header.depth}`,
          childStructure,
          childOffset,
        );
      }
      if (ctx.inodeSeed !== undefined && 12 + child.header.max * 12 + 4 <= bytes.length) {
        const at = 12 + child.header.max * 12;
        const stored = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
        if (stored !== extentBlockChecksum(bytes, child.header.max, ctx.inodeSeed)) {
          map.findings.push({
            severity: "error",
            code: "EXT4_EXTENT_CHECKSUM",
            message: `extent block ${idx.leaf} of inode ${ctx.inode} fails its checksum`,
            structure: childStructure,
            offset: childOffset + at,
          });
        }
      }
      await visit(child, childStructure, childOffset);
    }
  };
  await visit(rootNode, `extent tree root of inode ${ctx.inode}`, ctx.rootOffset);
  return map;
}
