/**
 * Reading a directory's entries: from its blocks in logical order (linear and hashed directories
 * alike, checking leaf checksums and the hash tree's index), or from the inode for inline
 * directories. Yields entries in on-disk order, "." and ".." and unused entries left out.
 */
import type { FsFinding } from "../types";
import { decodeName, dirBlockChecksum, dirTailChecksum, parseDirEntries } from "./dirEntry";
import { checkDxNode, checkDxRoot, isDxNode } from "./htree";
import { EXT4_INDEX_FL, EXT4_INLINE_DATA_FL, I_BLOCK, I_BLOCK_SIZE } from "./inode";
import { inlineDataXattr } from "./inlineData";
import { INCOMPAT_FILETYPE, INCOMPAT_LARGEDIR } from "./superblock";
import type { ExtVolume, LoadedInode } from "./volume";

export interface NamedEntry {
  name: string;
  inode: number;
  fileType: number;
  /** Problems with the block this entry came from. */
  findings: FsFinding[];
}

/** Blocks read at once while walking a directory's runs. */
const BATCH_BLOCKS = 16;

export async function* directoryEntries(vol: ExtVolume, dir: LoadedInode): AsyncGenerator<NamedEntry> {
  for await (const run of directoryRuns(vol, dir)) yield* run;
}

/** `directoryEntries` a block (or a batch of blocks) at a time: one await per run, not per entry. */
export async function* directoryRuns(vol: ExtVolume, dir: LoadedInode): AsyncGenerator<NamedEntry[]> {
  const hasFileType = (vol.sb.featureIncompat & INCOMPAT_FILETYPE) !== 0;
  const named = (bytes: Uint8Array, structure: string, offset: number, findings: FsFinding[]) =>
    parseDirEntries(bytes, hasFileType, vol.blockSize, structure, offset)
      .filter((e) => e.inode !== 0)
      .map((e) => ({ name: decodeName(e.name), inode: e.inode, fileType: e.fileType, findings }))
      .filter((e) => e.name !== "." && e.name !== "..");

  if (dir.inode.flags & EXT4_INLINE_DATA_FL) {
    // i_block: the parent's inode number, then 56 bytes of entries; then the system.data value.
    const structure = `inline directory of inode ${dir.ino}`;
    const first = dir.inode.block.subarray(4, I_BLOCK_SIZE);
    yield named(first, structure, dir.offset + I_BLOCK + 4, dir.findings);
    const data = inlineDataXattr(dir.inode, dir.ino, dir.offset);
    if (data && data.valueSize > 0) {
      const bytes = dir.inode.raw.subarray(data.valueOffset, data.valueOffset + data.valueSize);
      yield named(bytes, structure, dir.offset + data.valueOffset, dir.findings);
    }
    return;
  }

  const bs = vol.blockSize;
  const dirBlocks = Math.ceil(dir.inode.size / bs);
  const map = await vol.fileMap(dir);
  const seed = vol.geo.csum ? vol.inodeSeed(dir.ino, dir.inode) : undefined;
  const hashed = (dir.inode.flags & EXT4_INDEX_FL) !== 0;
  let dxNodes = new Set<number>();
  for (const run of map.runs) {
    if (run.physical === null) continue;
    const end = Math.min(run.logical + run.count, dirBlocks);
    for (let logical = run.logical; logical < end; logical += BATCH_BLOCKS) {
      const n = Math.min(BATCH_BLOCKS, end - logical);
      const physical = run.physical + (logical - run.logical);
      const bytes = await vol.device.read(physical * bs, n * bs);
      const batch: NamedEntry[] = [];
      for (let i = 0; i < n; i++) {
        const lblk = logical + i;
        const block = bytes.subarray(i * bs, (i + 1) * bs);
        const offset = (physical + i) * bs;
        const structure = `directory block ${lblk} of inode ${dir.ino}`;
        const findings: FsFinding[] = [];
        if (hashed && lblk === 0) {
          const checked = checkDxRoot(block, dirBlocks, (vol.sb.featureIncompat & INCOMPAT_LARGEDIR) !== 0, {
            inodeSeed: seed,
            structure: `dx_root of inode ${dir.ino}`,
            offset,
          });
          for (const f of checked.findings) vol.note(f);
          if (checked.findings.length === 0 && checked.root.indirectLevels > 0) dxNodes = new Set(checked.root.blocks);
        } else if (hashed && (dxNodes.has(lblk) || isDxNode(block))) {
          if (dxNodes.has(lblk)) {
            for (const f of checkDxNode(block, dirBlocks, {
              inodeSeed: seed,
              structure: `dx_node of inode ${dir.ino}`,
              offset,
            }))
              vol.note(f);
          }
          continue;
        } else if (seed !== undefined) {
          const stored = dirTailChecksum(block);
          const f: FsFinding | undefined =
            stored === undefined
              ? {
                  severity: "error",
                  code: "EXT4_DIR_NO_TAIL",
                  message: `${structure} has no checksum tail`,
                  structure,
                  offset,
                }
              : stored !== dirBlockChecksum(block, seed)
                ? {
                    severity: "error",
                    code: "EXT4_DIR_CHECKSUM",
                    message: `${structure} fails its checksum`,
                    structure,
                    offset,
                  }
                : undefined;
          if (f) {
            findings.push(f);
            vol.note(f);
          }
        }
        for (const e of named(block, structure, offset, findings)) batch.push(e);
      }
      if (batch.length) yield batch;
    }
  }
}
