/**
 * A mounted ext2/3/4 volume's shared state: the superblock in use, the group descriptor table,
 * cached metadata reads, inodes and their block maps. The FileSystem (fileSystem.ts) and the
 * owner index (owner.ts) read through it.
 */
import { FsError } from "../errors";
import type { BlockDevice, FsFinding } from "../types";
import { inodeChecksumSeed, volumeChecksumSeed } from "./checksum";
import { mapExtentTree } from "./extentTree";
import { mapBlockMap } from "./blockMap";
import type { FileMap } from "./fileMap";
import {
  descriptorBlock,
  type GroupDescriptor,
  groupDescriptorChecksum,
  parseGroupDescriptor,
} from "./groupDescriptor";
import { EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL, type Inode, inodeChecksum, parseInode } from "./inode";
import { findSuperblock } from "./superblockLocation";
import {
  type Geometry,
  INCOMPAT_COMPRESSION,
  INCOMPAT_CSUM_SEED,
  INCOMPAT_JOURNAL_DEV,
  INCOMPAT_RECOVER,
  RO_COMPAT_GDT_CSUM,
  STATE_ERROR_FS,
  type Superblock,
} from "./superblock";

/** Metadata is read in aligned chunks of this size and kept in a small LRU. */
const CHUNK = 64 * 1024;
const CHUNKS_KEPT = 64;
const MAPS_KEPT = 16;
export const ROOT_INO = 2;

export interface LoadedInode {
  ino: number;
  inode: Inode;
  /** The inode's byte offset on the device. */
  offset: number;
  findings: FsFinding[];
}

export class ExtVolume {
  private readonly chunks = new Map<number, Uint8Array>();
  private readonly maps = new Map<number, FileMap>();
  private readonly findingKeys = new Set<string>();

  private constructor(
    readonly device: BlockDevice,
    readonly sb: Superblock,
    readonly geo: Geometry,
    /** Device offset of the superblock in use (1024 for the primary). */
    readonly sbOffset: number,
    /** The descriptor table, s_desc_size bytes per group. */
    private readonly descriptors: Uint8Array,
    readonly seed: number,
    readonly findings: FsFinding[],
  ) {}

  static async open(device: BlockDevice): Promise<ExtVolume> {
    const found = await findSuperblock(device);
    const { sb, geo, offset } = found;
    const findings = [...found.findings];
    if (sb.featureIncompat & INCOMPAT_COMPRESSION) {
      throw new FsError("FS_UNSUPPORTED", "the compression feature is not supported", "superblock", offset);
    }
    if (sb.featureIncompat & INCOMPAT_JOURNAL_DEV) {
      throw new FsError(
        "FS_UNSUPPORTED",
        "this volume is an external journal device, not a file system",
        "superblock",
        offset,
      );
    }
    if (sb.featureIncompat & INCOMPAT_RECOVER) {
      findings.push({
        severity: "warning",
        code: "EXT4_NEEDS_RECOVERY",
        message:
          "the journal holds transactions not yet written to the file system (needs_recovery): shown is the on-disk state without them",
        structure: "superblock",
        offset,
      });
    }
    if (sb.state & STATE_ERROR_FS) {
      findings.push({
        severity: "warning",
        code: "EXT4_ERRORS_DETECTED",
        message: "the superblock records that errors were detected (s_state)",
        structure: "superblock",
        offset,
      });
    }
    const seed = volumeChecksumSeed(sb.uuid, sb.checksumSeed, (sb.featureIncompat & INCOMPAT_CSUM_SEED) !== 0);
    const descriptors = await readDescriptorTable(device, sb, geo, offset, seed, findings);
    return new ExtVolume(device, sb, geo, offset, descriptors, seed, findings);
  }

  get blockSize(): number {
    return this.geo.blockSize;
  }

  /** Records a finding met while reading, once per code and offset. */
  note(f: FsFinding): void {
    const key = `${f.code}@${f.offset ?? f.structure}`;
    if (this.findingKeys.has(key) || this.findingKeys.size > 10000) return;
    this.findingKeys.add(key);
    this.findings.push(f);
  }

  group(g: number): GroupDescriptor {
    const size = this.geo.descSize;
    return parseGroupDescriptor(this.descriptors.subarray(g * size, (g + 1) * size));
  }

  /** Metadata bytes through the chunk cache (a read inside one aligned 64 KiB chunk). */
  async readCached(offset: number, length: number): Promise<Uint8Array> {
    const base = Math.floor(offset / CHUNK) * CHUNK;
    if (offset + length > base + CHUNK) return this.device.read(offset, length);
    let chunk = this.chunks.get(base);
    if (chunk) {
      this.chunks.delete(base);
    } else {
      chunk = await this.device.read(base, Math.min(CHUNK, this.device.size - base));
      if (this.chunks.size >= CHUNKS_KEPT) this.chunks.delete(this.chunks.keys().next().value as number);
    }
    this.chunks.set(base, chunk);
    if (offset + length - base > chunk.length) return this.device.read(offset, length);
    return chunk.subarray(offset - base, offset - base + length);
  }

  async readBlock(block: number): Promise<Uint8Array> {
    return this.readCached(block * this.geo.blockSize, this.geo.blockSize);
  }

  /** The device offset of inode `ino`, after checking the number and its group's inode table. */
  inodeOffset(ino: number): number {
    const { sb, geo } = this;
    if (!Number.isInteger(ino) || ino < 1 || ino > sb.inodesCount) {
      throw new FsError("FS_CORRUPT", `inode ${ino} is outside 1..${sb.inodesCount}`, "inode", undefined);
    }
    const group = Math.floor((ino - 1) / sb.inodesPerGroup);
    const index = (ino - 1) % sb.inodesPerGroup;
    const table = this.group(group).inodeTable;
    const tableBlocks = Math.ceil((sb.inodesPerGroup * geo.inodeSize) / geo.blockSize);
    if (table === 0 || table + tableBlocks > sb.blocksCount) {
      throw new FsError(
        "FS_OUT_OF_RANGE",
        `the inode table of group ${group} (block ${table}) lies outside the volume`,
        `group descriptor ${group}`,
        this.descriptorOffset(group),
      );
    }
    return table * geo.blockSize + index * geo.inodeSize;
  }

  /** Where group `g`'s descriptor lies on the device. */
  descriptorOffset(g: number): number {
    const perBlock = this.geo.blockSize / this.geo.descSize;
    const sbBlock = Math.floor(this.sbOffset / this.geo.blockSize);
    const block = descriptorBlock(this.sb, sbBlock, perBlock, Math.floor(g / perBlock));
    return block * this.geo.blockSize + (g % perBlock) * this.geo.descSize;
  }

  async readInode(ino: number): Promise<LoadedInode> {
    const offset = this.inodeOffset(ino);
    const raw = await this.readCached(offset, this.geo.inodeSize);
    const inode = parseInode(raw.slice());
    const findings: FsFinding[] = [];
    if (this.geo.csum && (inode.mode !== 0 || inode.linksCount !== 0)) {
      const expected = inodeChecksum(inode.raw, this.inodeSeed(ino, inode), inode.checksumWide);
      if (expected !== inode.checksum) {
        findings.push({
          severity: "error",
          code: "EXT4_INODE_CHECKSUM",
          message: `inode ${ino} fails its checksum (stored 0x${inode.checksum.toString(16)}, computed 0x${expected.toString(16)})`,
          structure: `inode ${ino}`,
          offset,
        });
      }
    }
    return { ino, inode, offset, findings };
  }

  inodeSeed(ino: number, inode: Inode): number {
    return inodeChecksumSeed(this.seed, ino, inode.generation);
  }

  /** The inode's block map or extent tree as runs (not for inline data); kept for a few inodes. */
  async fileMap(loaded: LoadedInode): Promise<FileMap> {
    const { ino, inode } = loaded;
    const cached = this.maps.get(ino);
    if (cached) return cached;
    if (inode.flags & EXT4_INLINE_DATA_FL) return { runs: [], mapBlocks: [], findings: [] };
    const ctx = {
      inode: ino,
      blockSize: this.geo.blockSize,
      blocksCount: this.sb.blocksCount,
      rootOffset: loaded.offset + 0x28,
      readBlock: (b: number) => this.readBlock(b),
    };
    const map =
      inode.flags & EXT4_EXTENTS_FL
        ? await mapExtentTree(inode.block, {
            ...ctx,
            inodeSeed: this.geo.csum ? this.inodeSeed(ino, inode) : undefined,
          })
        : await mapBlockMap(inode.block, { ...ctx, fileBlocks: Math.ceil(inode.size / this.geo.blockSize) });
    for (const f of map.findings) this.note(f);
    if (this.maps.size >= MAPS_KEPT) this.maps.delete(this.maps.keys().next().value as number);
    this.maps.set(ino, map);
    return map;
  }
}

/** Reads every group descriptor block and checks each descriptor's checksum. */
async function readDescriptorTable(
  device: BlockDevice,
  sb: Superblock,
  geo: Geometry,
  sbOffset: number,
  seed: number,
  findings: FsFinding[],
): Promise<Uint8Array> {
  const { blockSize, descSize, groupCount } = geo;
  const perBlock = blockSize / descSize;
  const blocks = Math.ceil(groupCount / perBlock);
  const sbBlock = Math.floor(sbOffset / blockSize);
  const table = new Uint8Array(blocks * blockSize);
  for (let i = 0; i < blocks; i++) {
    const block = descriptorBlock(sb, sbBlock, perBlock, i);
    if (block >= sb.blocksCount) {
      throw new FsError(
        "FS_OUT_OF_RANGE",
        `group descriptor block ${i} would lie at block ${block}, past the volume`,
        "group descriptors",
        sbOffset,
      );
    }
    table.set(await device.read(block * blockSize, blockSize), i * blockSize);
  }
  const opts = {
    metadataCsum: geo.csum,
    gdtCsum: (sb.featureRoCompat & RO_COMPAT_GDT_CSUM) !== 0,
    seed,
    uuid: sb.uuid,
  };
  let bad = 0;
  for (let g = 0; g < groupCount; g++) {
    const bytes = table.subarray(g * descSize, (g + 1) * descSize);
    const expected = groupDescriptorChecksum(bytes, g, opts);
    const stored = bytes[0x1e] | (bytes[0x1f] << 8);
    if (expected !== undefined && expected !== stored && bad++ < 100) {
      const block = descriptorBlock(sb, sbBlock, perBlock, Math.floor(g / perBlock));
      findings.push({
        severity: "error",
        code: "EXT4_GROUP_DESCRIPTOR_CHECKSUM",
        message: `group descriptor ${g} fails its checksum (stored 0x${stored.toString(16)}, computed 0x${expected.toString(16)})`,
        structure: `group descriptor ${g}`,
        offset: block * blockSize + (g % perBlock) * descSize,
      });
    }
  }
  return table;
}
