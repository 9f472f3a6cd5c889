/**
 * Finding a superblock to trust: the primary at byte 1024, or — when it is unreadable, has an
 * impossible geometry or fails its checksum — a backup at the start of block group 1, tried for
 * each block size with the default 8 × block-size blocks per group (super.rst, "Superblock").
 */
import { FsError } from "../errors";
import type { BlockDevice, FsFinding } from "../types";
import {
  type Geometry,
  parseSuperblock,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
  type Superblock,
  superblockChecksum,
  superblockGeometry,
} from "./superblock";

export interface FoundSuperblock {
  sb: Superblock;
  geo: Geometry;
  /** Device offset of the superblock used. */
  offset: number;
  findings: FsFinding[];
}

interface Candidate {
  sb: Superblock;
  geo: Geometry;
  checksumOk: boolean;
}

async function tryAt(device: BlockDevice, offset: number): Promise<Candidate | FsError> {
  if (offset + SUPERBLOCK_SIZE > device.size) {
    return new FsError("FS_OUT_OF_RANGE", `the device ends before a superblock at ${offset}`, "superblock", offset);
  }
  const bytes = await device.read(offset, SUPERBLOCK_SIZE);
  const sb = parseSuperblock(bytes);
  try {
    const geo = superblockGeometry(sb, device.size, offset);
    const checksumOk = !geo.csum || superblockChecksum(bytes) === sb.checksum;
    return { sb, geo, checksumOk };
  } catch (e) {
    if (e instanceof FsError) return e;
    throw e;
  }
}

/** Backup places to try: group 1's first block for each block size, the primary's own guess first. */
function backupOffsets(primary: Superblock | undefined, deviceSize: number): number[] {
  const out: number[] = [];
  if (primary && primary.logBlockSize <= 6 && primary.blocksPerGroup > 0) {
    const bs = 1024 << primary.logBlockSize;
    out.push((primary.firstDataBlock + primary.blocksPerGroup) * bs);
  }
  for (let log = 0; log <= 6; log++) {
    const bs = 1024 << log;
    out.push(((bs === 1024 ? 1 : 0) + 8 * bs) * bs);
  }
  return [...new Set(out)].filter((o) => o > SUPERBLOCK_OFFSET && o + SUPERBLOCK_SIZE <= deviceSize);
}

export async function findSuperblock(device: BlockDevice): Promise<FoundSuperblock> {
  const primary = await tryAt(device, SUPERBLOCK_OFFSET);
  if (!(primary instanceof FsError) && primary.checksumOk) {
    return { sb: primary.sb, geo: primary.geo, offset: SUPERBLOCK_OFFSET, findings: [] };
  }
  const primarySb =
    primary instanceof FsError
      ? SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE <= device.size
        ? parseSuperblock(await device.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE))
        : undefined
      : primary.sb;
  const why = primary instanceof FsError ? primary.message : "the primary superblock fails its checksum";
  for (const offset of backupOffsets(primarySb, device.size)) {
    const backup = await tryAt(device, offset);
    if (backup instanceof FsError || !backup.checksumOk) continue;
    // A backup's block must be the first of its group: that is where backups live.
    if (offset % backup.geo.blockSize !== 0) continue;
    return {
      sb: backup.sb,
      geo: backup.geo,
      offset,
      findings: [
        {
          severity: "warning",
          code: "EXT4_SUPERBLOCK_BACKUP_USED",
          message: `${why}; the backup superblock of group ${backup.sb.blockGroupNr} at byte ${offset} is used`,
          structure: "superblock",
          offset: SUPERBLOCK_OFFSET,
        },
      ],
    };
  }
  if (primary instanceof FsError) throw primary;
  return {
    sb: primary.sb,
    geo: primary.geo,
    offset: SUPERBLOCK_OFFSET,
    findings: [
      {
        severity: "error",
        code: "EXT4_SUPERBLOCK_CHECKSUM",
        message: "the superblock fails its checksum and no backup superblock is valid",
        structure: "superblock",
        offset: SUPERBLOCK_OFFSET,
      },
    ],
  };
}
