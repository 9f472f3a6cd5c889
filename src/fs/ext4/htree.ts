/**
 * Hashed directories (Documentation/filesystems/ext4/directory.rst, "Hash Tree Directories"):
 * block 0 holds dx_root (fake "." and ".." entries, dx_root_info, then dx_entry records), interior
 * blocks hold dx_node (one fake empty entry spanning the block, then dx_entry records); the leaves
 * are ordinary blocks of directory entries. Listing reads every block in order — the fake entries
 * make the index blocks read as empty — so the index is only checked, not followed.
 */
import type { FsFinding } from "../types";
import { ext4Checksum } from "./checksum";
import { recLenFromDisk } from "./dirEntry";

/** Where dx_root_info and the dx_countlimit after it lie in block 0. */
const DX_ROOT_INFO = 0x18;
const DX_ROOT_COUNTLIMIT = 0x20;
/** dx_node's count/limit: after its 8-byte fake entry. */
const DX_NODE_COUNTLIMIT = 0x8;
/** dx_tail: dt_reserved and dt_checksum after the last dx_entry slot, with metadata_csum. */
const DX_TAIL_SIZE = 8;
const MAX_HASH_VERSION = 6;

export interface DxRoot {
  hashVersion: number;
  infoLength: number;
  indirectLevels: number;
  limit: number;
  count: number;
  /** The blocks the root's dx_entry records point at. */
  blocks: number[];
}

export function parseDxRoot(block: Uint8Array): DxRoot {
  const v = new DataView(block.buffer, block.byteOffset, block.length);
  const limit = v.getUint16(DX_ROOT_COUNTLIMIT, true);
  const count = v.getUint16(DX_ROOT_COUNTLIMIT + 2, true);
  const blocks: number[] = [];
  // The first dx_entry's hash is implied 0: its place holds count/limit, its block follows.
  for (let i = 0; i < count && DX_ROOT_COUNTLIMIT + i * 8 + 8 <= block.length; i++) {
    blocks.push(v.getUint32(DX_ROOT_COUNTLIMIT + i * 8 + 4, true));
  }
  return {
    hashVersion: block[DX_ROOT_INFO + 4],
    infoLength: block[DX_ROOT_INFO + 5],
    indirectLevels: block[DX_ROOT_INFO + 6],
    limit,
    count,
    blocks,
  };
}

/** Whether a directory block (after block 0) is a dx_node: a fake entry of inode 0 spanning the block. */
export function isDxNode(block: Uint8Array): boolean {
  const v = new DataView(block.buffer, block.byteOffset, block.length);
  return (
    v.getUint32(0, true) === 0 && recLenFromDisk(v.getUint16(4, true), block.length) === block.length && block[6] === 0
  );
}

/** The dx_tail checksum as it should read: over the used dx_entry records, then the tail zeroed. */
function dxChecksum(block: Uint8Array, countOffset: number, count: number, limit: number, seed: number): number {
  const c = ext4Checksum(seed, block.subarray(0, countOffset + count * 8));
  const tail = block.slice(countOffset + limit * 8, countOffset + limit * 8 + DX_TAIL_SIZE);
  tail.fill(0, 4, 8);
  return ext4Checksum(c, tail);
}

/** The checks of a dx_root or dx_node's count/limit and checksum; findings, never thrown. */
function checkCountLimit(
  block: Uint8Array,
  countOffset: number,
  dirBlocks: number,
  opts: { inodeSeed?: number; structure: string; offset: number },
  findings: FsFinding[],
): void {
  const v = new DataView(block.buffer, block.byteOffset, block.length);
  const limit = v.getUint16(countOffset, true);
  const count = v.getUint16(countOffset + 2, true);
  const expected = (block.length - countOffset - (opts.inodeSeed !== undefined ? DX_TAIL_SIZE : 0)) / 8;
  const finding = (message: string, code = "EXT4_HTREE_INVALID") =>
    findings.push({ severity: "error", code, message, structure: opts.structure, offset: opts.offset });
  if (limit !== expected) return void finding(`dx limit ${limit}, expected ${expected}`);
  if (count === 0 || count > limit) return void finding(`dx count ${count} is outside 1..${limit}`);
  for (let i = 0; i < count; i++) {
    const b = v.getUint32(countOffset + i * 8 + 4, true);
    if (b >= dirBlocks) return void finding(`dx_entry ${i} points at block ${b}, past the directory's ${dirBlocks}`);
  }
  if (opts.inodeSeed !== undefined) {
    const stored = v.getUint32(countOffset + limit * 8 + 4, true);
    if (stored !== dxChecksum(block, countOffset, count, limit, opts.inodeSeed)) {
      finding(`the hash tree block fails its checksum`, "EXT4_HTREE_CHECKSUM");
    }
  }
}

/** Checks dx_root in a directory's block 0: the info fields, count/limit, block numbers, checksum. */
export function checkDxRoot(
  block: Uint8Array,
  dirBlocks: number,
  largeDir: boolean,
  opts: { inodeSeed?: number; structure: string; offset: number },
): { root: DxRoot; findings: FsFinding[] } {
  const findings: FsFinding[] = [];
  const root = parseDxRoot(block);
  const v = new DataView(block.buffer, block.byteOffset, block.length);
  const finding = (message: string) =>
    findings.push({
      severity: "error",
      code: "EXT4_HTREE_INVALID",
      message,
      structure: opts.structure,
      offset: opts.offset,
    });
  if (v.getUint32(DX_ROOT_INFO, true) !== 0) finding(`dx_root_info.reserved_zero is not zero`);
  else if (root.infoLength !== 8) finding(`dx_root_info.info_length ${root.infoLength}, expected 8`);
  else if (root.hashVersion > MAX_HASH_VERSION) finding(`unknown hash version ${root.hashVersion}`);
  else if (root.indirectLevels >= (largeDir ? 3 : 2)) finding(`indirect_levels ${root.indirectLevels} is too deep`);
  else checkCountLimit(block, DX_ROOT_COUNTLIMIT, dirBlocks, opts, findings);
  return { root, findings };
}

/** Checks an interior dx_node's count/limit and checksum. */
export function checkDxNode(
  block: Uint8Array,
  dirBlocks: number,
  opts: { inodeSeed?: number; structure: string; offset: number },
): FsFinding[] {
  const findings: FsFinding[] = [];
  checkCountLimit(block, DX_NODE_COUNTLIMIT, dirBlocks, opts, findings);
  return findings;
}
