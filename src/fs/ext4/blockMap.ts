/**
 * The ext2/3 block map (Documentation/filesystems/ext4/ifork.rst, "Direct/Indirect Block
 * Addressing"): i_block[0..11] point at the first 12 data blocks, i_block[12] at an indirect
 * block of block numbers, i_block[13] at a double-indirect block, i_block[14] at a triple. A zero
 * pointer is a hole — for an indirect pointer, a hole as long as everything below it.
 */
import { FsError } from "../errors";
import { type FileMap, pushRun } from "./fileMap";

const DIRECT_BLOCKS = 12;

export interface BlockMapContext {
  inode: number;
  blockSize: number;
  blocksCount: number;
  /** Device offset of the inode's i_block. */
  rootOffset: number;
  /** Logical blocks the file's size covers; nothing past them is read. */
  fileBlocks: number;
  readBlock(block: number): Promise<Uint8Array>;
}

/** The block numbers in one block of pointers (or the 15 words of i_block). */
export function parseBlockPointers(bytes: Uint8Array): Uint32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Uint32Array(bytes.length >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = v.getUint32(i * 4, true);
  return out;
}

/** Reads the map into runs; each indirect block is read once, and nothing past `fileBlocks`. */
export async function mapBlockMap(iBlock: Uint8Array, ctx: BlockMapContext): Promise<FileMap> {
  const map: FileMap = { runs: [], mapBlocks: [], findings: [] };
  const perBlock = ctx.blockSize / 4;
  const seen = new Set<number>();
  const top = parseBlockPointers(iBlock);

  const check = (block: number, structure: string, offset: number) => {
    if (block >= ctx.blocksCount) {
      throw new FsError(
        "FS_OUT_OF_RANGE",
        `${structure}: block ${block} is outside the volume (${ctx.blocksCount} blocks)`,
        structure,
        offset,
      );
    }
  };

  /** Maps the subtree under `pointer`, `level` levels of indirection deep, starting at `logical`. */
  const walk = async (pointer: number, level: number, logical: number, structure: string, offset: number) => {
    if (pointer === 0 || logical >= ctx.fileBlocks) return;
    check(pointer, structure, offset);
    if (level === 0) {
      pushRun(map.runs, logical, 1, pointer);
      return;
    }
    if (seen.has(pointer)) {
      throw new FsError("FS_CORRUPT", `${structure}: indirect block ${pointer} is used twice`, structure, offset);
    }
    seen.add(pointer);
    map.mapBlocks.push(pointer);
    const pointers = parseBlockPointers(await ctx.readBlock(pointer));
    const span = perBlock ** (level - 1);
    const childStructure = `indirect block ${pointer} of inode ${ctx.inode}`;
    for (let i = 0; i < perBlock; i++) {
      const childLogical = logical + i * span;
      if (childLogical >= ctx.fileBlocks) break;
      await walk(pointers[i], level - 1, childLogical, childStructure, pointer * ctx.blockSize + i * 4);
    }
  };

  const rootStructure = `block map of inode ${ctx.inode}`;
  for (let i = 0; i < DIRECT_BLOCKS; i++) await walk(top[i], 0, i, rootStructure, ctx.rootOffset + i * 4);
  let start = DIRECT_BLOCKS;
  for (let level = 1; level <= 3; level++) {
    await walk(top[DIRECT_BLOCKS + level - 1], level, start, rootStructure, ctx.rootOffset + (11 + level) * 4);
    start += perBlock ** level;
  }
  return map;
}
