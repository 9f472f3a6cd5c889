/**
 * Who owns a byte of the volume. Fixed structures (boot block, superblock copies, descriptor
 * tables, bitmaps, inode tables) follow from the superblock and descriptors; files, directories,
 * their extent trees and the journal come from an index built on the first question by walking
 * the tree from the root — sorted typed arrays of block runs, one entry per run read, capped.
 */
import { FsError } from "../errors";
import type { Owner } from "../types";
import { BG_BLOCK_UNINIT, classicTableBlocks, groupFirstBlock } from "./groupDescriptor";
import { EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL, inodeKind } from "./inode";
import { directoryEntries } from "./directory";
import { groupHasSuper, INCOMPAT_META_BG, RO_COMPAT_BIGALLOC, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE } from "./superblock";
import type { ExtFileSystem } from "./fileSystem";
import { type ExtVolume, ROOT_INO } from "./volume";

/** The most runs the index keeps; past it, what is left reads as "unknown". */
export const MAX_INDEXED_RUNS = 4_000_000;

type Holder =
  | { kind: "file" | "dir" | "xattr"; ino: number; path: string }
  | { kind: "map"; ino: number; path: string; extents: boolean }
  | { kind: "structure"; name: string };

/** Runs of blocks, sorted by start, each naming its holder and (for files) its first logical block. */
class RunIndex {
  starts: number[] = [];
  counts: number[] = [];
  logicals: number[] = [];
  holders: number[] = [];
  private sorted?: { starts: Float64Array; counts: Float64Array; logicals: Float64Array; holders: Uint32Array };

  get size(): number {
    return this.starts.length;
  }

  add(start: number, count: number, logical: number, holder: number): void {
    this.starts.push(start);
    this.counts.push(count);
    this.logicals.push(logical);
    this.holders.push(holder);
  }

  freeze(): void {
    const order = Array.from(this.starts.keys()).sort((a, b) => this.starts[a] - this.starts[b]);
    this.sorted = {
      starts: Float64Array.from(order, (i) => this.starts[i]),
      counts: Float64Array.from(order, (i) => this.counts[i]),
      logicals: Float64Array.from(order, (i) => this.logicals[i]),
      holders: Uint32Array.from(order, (i) => this.holders[i]),
    };
    this.starts = [];
    this.counts = [];
    this.logicals = [];
    this.holders = [];
  }

  /** The run holding `block`, as [holder, logical block of `block`], or undefined. */
  find(block: number): [number, number] | undefined {
    const s = this.sorted;
    if (!s) return undefined;
    let lo = 0;
    let hi = s.starts.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (s.starts[mid] <= block) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Runs may overlap on a damaged volume; the nearest start below is enough to answer.
    if (at < 0 || block >= s.starts[at] + s.counts[at]) return undefined;
    return [s.holders[at], s.logicals[at] + (block - s.starts[at])];
  }
}

export class OwnerIndex {
  private readonly holders: Holder[] = [];
  private readonly runs = new RunIndex();
  private built: Promise<void> | undefined;

  constructor(
    private readonly vol: ExtVolume,
    private readonly fs: ExtFileSystem,
  ) {}

  async ownerOf(offset: number): Promise<Owner> {
    const { vol } = this;
    if (!Number.isFinite(offset) || offset < 0 || offset >= this.fs.size) {
      throw new FsError(
        "FS_OUT_OF_RANGE",
        `offset ${offset} is outside the volume (${this.fs.size} bytes)`,
        "volume",
        offset,
      );
    }
    if (offset < SUPERBLOCK_OFFSET) return { kind: "structure", structure: "boot block" };
    if (offset < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) return { kind: "structure", structure: "superblock" };
    const block = Math.floor(offset / vol.blockSize);
    const fixed = this.fixedStructure(block, offset);
    if (fixed) return { kind: "structure", structure: fixed };
    this.built ??= this.build();
    await this.built;
    const hit = this.runs.find(block);
    if (hit) {
      const h = this.holders[hit[0]];
      if (h.kind === "structure") return { kind: "structure", structure: h.name };
      if (h.kind === "file") {
        const name = h.path.slice(h.path.lastIndexOf("/") + 1);
        const entry = await this.fs.entryFor(h.ino, name, h.path);
        return { kind: "file", path: h.path, fileOffset: hit[1] * vol.blockSize + (offset % vol.blockSize), entry };
      }
      const structure =
        h.kind === "dir"
          ? "directory"
          : h.kind === "xattr"
            ? "extended attribute block"
            : h.kind === "map" && h.extents
              ? "extent tree"
              : "indirect block";
      return { kind: "structure", structure, path: h.path };
    }
    return (await this.isFree(block)) ? { kind: "free" } : { kind: "unknown" };
  }

  /** Superblock backups, descriptor tables, reserved GDT blocks, bitmaps and inode tables. */
  private fixedStructure(block: number, offset: number): string | undefined {
    const { sb, geo } = this.vol;
    if (block < sb.firstDataBlock) return "boot block";
    const group = Math.floor((block - sb.firstDataBlock) / sb.blocksPerGroup);
    const first = groupFirstBlock(sb, group);
    const perBlock = geo.blockSize / geo.descSize;
    if (groupHasSuper(sb, group)) {
      if (block === first) return group === 0 ? "superblock" : `superblock backup (group ${group})`;
      const table = classicTableBlocks(sb, geo.groupCount, perBlock);
      if (block <= first + table)
        return group === 0 ? "group descriptors" : `group descriptors backup (group ${group})`;
      if (block <= first + table + sb.reservedGdtBlocks) return "reserved GDT blocks";
    }
    if (sb.featureIncompat & INCOMPAT_META_BG) {
      const inMeta = group % perBlock;
      const meta = Math.floor(group / perBlock);
      if (meta >= sb.firstMetaBg && (inMeta === 0 || inMeta === 1 || inMeta === perBlock - 1)) {
        if (block === first + (groupHasSuper(sb, group) ? 1 : 0)) return `group descriptors (meta group ${meta})`;
      }
    }
    const tableBlocks = Math.ceil((sb.inodesPerGroup * geo.inodeSize) / geo.blockSize);
    // With flex_bg a group's bitmaps and table lie in another group: every descriptor is asked.
    for (let g = 0; g < geo.groupCount; g++) {
      const d = this.vol.group(g);
      if (block === d.blockBitmap) return `block bitmap of group ${g}`;
      if (block === d.inodeBitmap) return `inode bitmap of group ${g}`;
      if (block >= d.inodeTable && block < d.inodeTable + tableBlocks) {
        const ino = g * sb.inodesPerGroup + Math.floor((offset - d.inodeTable * geo.blockSize) / geo.inodeSize) + 1;
        return `inode ${ino} (inode table of group ${g})`;
      }
    }
    return undefined;
  }

  private async isFree(block: number): Promise<boolean> {
    const { sb, geo } = this.vol;
    const group = Math.floor((block - sb.firstDataBlock) / sb.blocksPerGroup);
    if (group >= geo.groupCount) return false;
    const d = this.vol.group(group);
    if (d.flags & BG_BLOCK_UNINIT) return true;
    if (d.blockBitmap === 0 || d.blockBitmap >= sb.blocksCount) return false;
    const bitmap = await this.vol.readBlock(d.blockBitmap);
    const ratio = sb.featureRoCompat & RO_COMPAT_BIGALLOC ? 2 ** (sb.logClusterSize - sb.logBlockSize) : 1;
    const bit = Math.floor((block - groupFirstBlock(sb, group)) / ratio);
    return (bitmap[bit >>> 3] & (1 << (bit & 7))) === 0;
  }

  private holder(h: Holder): number {
    this.holders.push(h);
    return this.holders.length - 1;
  }

  /** Adds an inode's runs, map blocks and xattr block; false once the index is full. */
  private async addInode(ino: number, path: string, as: "file" | "dir" | "structure", name = ""): Promise<boolean> {
    const loaded = await this.vol.readInode(ino);
    const { inode } = loaded;
    const id = this.holder(as === "structure" ? { kind: "structure", name } : { kind: as, ino, path });
    if (
      !(inode.flags & EXT4_INLINE_DATA_FL) &&
      !(inodeKind(inode.mode) === "symlink" && inode.size < 60 && inode.blocks === 0)
    ) {
      const map = await this.vol.fileMap(loaded);
      for (const r of map.runs) if (r.physical !== null) this.runs.add(r.physical, r.count, r.logical, id);
      if (map.mapBlocks.length) {
        const mapId =
          as === "structure"
            ? id
            : this.holder({
                kind: "map",
                ino,
                path,
                extents: (inode.flags & EXT4_EXTENTS_FL) !== 0,
              });
        for (const b of map.mapBlocks) this.runs.add(b, 1, 0, mapId);
      }
    }
    if (inode.fileAcl !== 0 && inode.fileAcl < this.vol.sb.blocksCount) {
      this.runs.add(inode.fileAcl, 1, 0, this.holder({ kind: "xattr", ino, path }));
    }
    return this.runs.size < MAX_INDEXED_RUNS;
  }

  private async build(): Promise<void> {
    const { vol } = this;
    const tryAdd = async (ino: number, path: string, as: "file" | "dir" | "structure", name?: string) => {
      try {
        return await this.addInode(ino, path, as, name);
      } catch (e) {
        if (e instanceof FsError) return true; // a damaged inode owns nothing we can name
        throw e;
      }
    };
    // Reserved inodes: the journal and the rest by number.
    for (let ino = 1; ino < vol.geo.firstIno; ino++) {
      if (ino === ROOT_INO) continue;
      const name = ino === vol.sb.journalInum ? "journal" : ino === 7 ? "resize inode" : `reserved inode ${ino}`;
      await tryAdd(ino, "", "structure", name);
    }
    // Breadth-first from the root; each inode indexed once (hard links under their first path).
    const seen = new Set<number>([ROOT_INO]);
    let queue: { ino: number; path: string }[] = [{ ino: ROOT_INO, path: "" }];
    let full = !(await tryAdd(ROOT_INO, "", "dir"));
    while (queue.length && !full) {
      const next: typeof queue = [];
      for (const dir of queue) {
        if (full) break;
        let loaded;
        try {
          loaded = await vol.readInode(dir.ino);
          for await (const e of directoryEntries(vol, loaded)) {
            if (seen.has(e.inode)) continue;
            seen.add(e.inode);
            const path = dir.path === "" ? e.name : `${dir.path}/${e.name}`;
            const isDir =
              e.fileType === 2 || (e.fileType === 0 && inodeKind((await vol.readInode(e.inode)).inode.mode) === "dir");
            if (!(await tryAdd(e.inode, path, isDir ? "dir" : "file"))) {
              full = true;
              break;
            }
            if (isDir) next.push({ ino: e.inode, path });
          }
        } catch (e) {
          if (!(e instanceof FsError)) throw e;
        }
      }
      queue = next;
    }
    if (full) {
      vol.note({
        severity: "info",
        code: "EXT4_OWNER_INDEX_LIMIT",
        message: `the owner index stopped at ${MAX_INDEXED_RUNS} runs; blocks of files past it read as unknown`,
        structure: "volume",
      });
    }
    this.runs.freeze();
  }
}
