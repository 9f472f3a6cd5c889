import { forEachSpan, PAYLOAD_STATE_NAMES, SB_STATE_NAMES } from "./bat";
import { KNOWN_METADATA } from "./metadata";
import { HEADER_SECTION_SIZE, Warning } from "./open";
import { describeExtent, Extent, Gap } from "./registry";
import { regionName } from "./regionTable";
import type { DiskType, VhdxImage } from "./image";

/** The JSON of `vhdx info --json`: plain data, byte sizes as numbers, GUIDs in canonical text. */
export interface ImageInfo {
  diskType: DiskType;
  virtualSize: number;
  blockSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  virtualDiskId: string;
  hasParent: boolean;
  leaveBlockAllocated: boolean;
  creator: string;
  fileSize: number;
  chunkRatio: number;
  dataBlocksCount: number;
  headers: {
    index: number;
    fileOffset: number;
    valid: boolean;
    current: boolean;
    problems: string[];
    signature: string | null;
    checksum: number | null;
    computedChecksum: number;
    sequenceNumber: string | null;
    fileWriteGuid: string | null;
    dataWriteGuid: string | null;
    logGuid: string | null;
    logOffset: number | null;
    logLength: number | null;
    version: number | null;
    logVersion: number | null;
  }[];
  regions: { guid: string; name: string; fileOffset: number; length: number; required: boolean }[];
  regionTables: {
    index: number;
    fileOffset: number;
    valid: boolean;
    error: string | null;
    entryCount: number | null;
  }[];
  metadata: {
    guid: string;
    name: string;
    offset: number;
    length: number;
    isUser: boolean;
    isVirtualDisk: boolean;
    isRequired: boolean;
  }[];
  parentLocator: { locatorType: string; entries: { key: string; value: string }[] } | null;
  bat: {
    fileOffset: number;
    entries: number;
    payload: Record<string, number>;
    sectorBitmap: Record<string, number>;
  };
  log: { needsReplay: boolean; guid: string; offset: number; length: number };
  warnings: Warning[];
}

export function imageInfo(img: VhdxImage, log: { needsReplay: boolean } = { needsReplay: false }): ImageInfo {
  const p = img.params;
  const g = img.geometry;
  const payload: Record<string, number> = {};
  const sectorBitmap: Record<string, number> = {};
  const pc = new Float64Array(8);
  const sc = new Float64Array(8);
  // Entries past those the file holds are NOT_PRESENT; they are counted, not visited.
  const present = Math.min(img.bat.length, img.bat.words.length >>> 1);
  // One pass over the raw words, a chunk at a time (its payload entries, then its sector bitmap
  // entry, §2.5), with the common NOT_PRESENT state counted in a local; spans whose bytes are all
  // zero, or whose chunks are all alike, are counted without a visit to each entry. A 64 TiB disk's
  // 2 million entries take a few milliseconds, an empty or fresh one well under one.
  const w = img.bat.words;
  const stride = g.chunkRatio + 1;
  const sbBelow = (n: number) => Math.floor(n / stride);
  const countZeros = (start: number, end: number) => {
    const sb = sbBelow(end) - sbBelow(start);
    sc[0] += sb;
    pc[0] += end - start - sb;
  };
  /** Counts the chunks starting in [start, stop), each `times` over. */
  const countChunks = (start: number, stop: number, times = 1) => {
    for (let c = start; c < stop; c += stride) {
      const end = Math.min(stop, c + g.chunkRatio);
      let notPresent = 0;
      for (let j = c * 2; j < end * 2; j += 2) {
        const s = w[j] & 7;
        if (s === 0) notPresent++;
        else pc[s] += times;
      }
      pc[0] += notPresent * times;
      if (end < stop) sc[w[end * 2] & 7] += times;
    }
  };
  forEachSpan(w, present, stride, {
    zero: countZeros,
    // Identical chunks (QEMU's fresh images): the first counted once per chunk.
    repeat: (start, end) => countChunks(start, start + stride, (end - start) / stride),
    other: countChunks,
  });
  const absentSb = sbBelow(img.bat.length) - sbBelow(present);
  sc[0] += absentSb;
  pc[0] += img.bat.length - present - absentSb;
  for (let s = 0; s < 8; s++) {
    if (pc[s]) payload[PAYLOAD_STATE_NAMES[s]] = pc[s];
    if (sc[s]) sectorBitmap[SB_STATE_NAMES[s]] = sc[s];
  }
  return {
    diskType: img.diskType,
    virtualSize: p.virtualDiskSize,
    blockSize: p.fileParameters.blockSize,
    logicalSectorSize: p.logicalSectorSize,
    physicalSectorSize: p.physicalSectorSize,
    virtualDiskId: p.virtualDiskId,
    hasParent: p.fileParameters.hasParent,
    leaveBlockAllocated: p.fileParameters.leaveBlockAllocated,
    creator: img.creator,
    fileSize: img.fileSize,
    chunkRatio: g.chunkRatio,
    dataBlocksCount: g.dataBlocksCount,
    headers: img.headerSlots.map((s) => ({
      index: s.index,
      fileOffset: s.fileOffset,
      valid: s.valid,
      current: s.index === img.currentHeaderIndex,
      problems: s.problems.map((x) => x.message),
      signature: s.header?.signature ?? null,
      checksum: s.header?.checksum ?? null,
      computedChecksum: s.computedChecksum,
      sequenceNumber: s.header ? s.header.sequenceNumber.toString() : null,
      fileWriteGuid: s.header?.fileWriteGuid ?? null,
      dataWriteGuid: s.header?.dataWriteGuid ?? null,
      logGuid: s.header?.logGuid ?? null,
      logOffset: s.header?.logOffset ?? null,
      logLength: s.header?.logLength ?? null,
      version: s.header?.version ?? null,
      logVersion: s.header?.logVersion ?? null,
    })),
    regions: img.regions.map((r) => ({
      guid: r.guid,
      name: regionName(r.guid),
      fileOffset: r.fileOffset,
      length: r.length,
      required: r.required === 1,
    })),
    regionTables: img.regionTableSlots.map((s) => ({
      index: s.index,
      fileOffset: s.fileOffset,
      valid: s.table !== null,
      error: s.error ? s.error.message : null,
      entryCount: s.table ? s.table.entryCount : null,
    })),
    metadata: img.metadataTable.entries.map((e) => ({
      guid: e.itemId,
      name: KNOWN_METADATA[e.itemId]?.name ?? "unknown",
      offset: e.offset,
      length: e.length,
      isUser: e.isUser,
      isVirtualDisk: e.isVirtualDisk,
      isRequired: e.isRequired,
    })),
    parentLocator: p.parentLocator
      ? {
          locatorType: p.parentLocator.locatorType,
          entries: p.parentLocator.entries.map((e) => ({ key: e.key, value: e.value })),
        }
      : null,
    bat: { fileOffset: img.batRegion.fileOffset, entries: img.bat.length, payload, sectorBitmap },
    log: {
      needsReplay: log.needsReplay,
      guid: img.header.logGuid,
      offset: img.header.logOffset,
      length: img.header.logLength,
    },
    warnings: img.warnings,
  };
}

export interface MapExtent extends Extent {
  end: number;
}

/** The JSON of `vhdx map --json`: the file's layout from 0 to its end (or the part a window asks for). */
export interface FileMap {
  fileSize: number;
  /** The end of the furthest structure or block (may pass the file's end); of the whole file, whatever the window. */
  extentEnd: number;
  /** The file range described: [0, max(fileSize, extentEnd)) unless a window was asked for. */
  window: { start: number; end: number; granularity: number };
  /** Structures and runs of blocks (RegionRegistry.runs) meeting the window, by start. */
  extents: MapExtent[];
  gaps: Gap[];
  overlaps: { a: MapExtent; b: MapExtent; message: string }[];
  /** Structures or blocks that reach past the end of the file. */
  pastEnd: MapExtent[];
}

/**
 * Part of the file to map: [start, end), with runs of blocks of one kind whose gaps are less than
 * `granularity` bytes merged (a view drawing cells of that size sees the same picture), and free
 * gaps shorter than it left out. The extent count then follows (end − start) / granularity, not
 * the file's block count.
 */
export interface MapWindow {
  start: number;
  end: number;
  granularity?: number;
}

/** The header section's five parts (§2.2), for display. */
function headerSectionParts(): MapExtent[] {
  const K = 1024;
  const part = (start: number, length: number, name: string): MapExtent => ({
    start,
    length,
    end: start + length,
    kind: "header-section",
    name,
  });
  return [
    part(0, 64 * K, "file type identifier"),
    part(64 * K, 64 * K, "header 1"),
    part(128 * K, 64 * K, "header 2"),
    part(192 * K, 64 * K, "region table 1"),
    part(256 * K, 64 * K, "region table 2"),
    part(320 * K, HEADER_SECTION_SIZE - 320 * K, "header section (reserved)"),
  ];
}

export function fileMap(img: VhdxImage, window?: MapWindow): FileMap {
  const withEnd = (e: Extent): MapExtent => ({ ...e, end: e.start + e.length });
  const reg = img.registry;
  const extentEnd = reg.end();
  const start = Math.max(0, window?.start ?? 0);
  const end = window ? Math.max(start, window.end) : Math.max(img.fileSize, extentEnd);
  const granularity = Math.max(1, Math.floor(window?.granularity ?? 1));
  const meets = (e: { start: number; length: number }) => e.start < end && e.start + Math.max(e.length, 1) > start;
  const extents: MapExtent[] = [];
  for (const e of reg.runs(start, end, granularity > 1 ? granularity : 0)) {
    if (e.kind === "header-section" && e.start === 0 && e.length === HEADER_SECTION_SIZE)
      extents.push(...headerSectionParts().filter(meets));
    else extents.push(withEnd(e));
  }
  const overlaps = reg
    .overlaps()
    .filter(([a, b]) => meets(a) && meets(b))
    .map(([a, b]) => ({ a: withEnd(a), b: withEnd(b), message: `${describeExtent(a)} overlaps ${describeExtent(b)}` }));
  return {
    fileSize: img.fileSize,
    extentEnd,
    window: { start, end, granularity },
    extents,
    gaps: reg.freeGaps(img.fileSize, 1).filter((g) => meets(g) && (granularity === 1 || g.length >= granularity)),
    overlaps,
    pastEnd: extents.filter((e) => e.end > img.fileSize),
  };
}
