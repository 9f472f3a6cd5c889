import {
  Bat,
  batGeometry,
  BAT_ENTRY_SIZE,
  isSectorBitmapEntry,
  SECTOR_BITMAP_BLOCK_SIZE,
  spaceUse,
  visitSpans,
} from "./bat";
import { MiB } from "./bytes";
import { hex, VhdxError } from "./errors";
import { FILE_IDENTIFIER_SIGNATURE, parseFileIdentifier } from "./fileIdentifier";
import { checkHeaderSlot, chooseCurrentHeader, HEADER_OFFSETS, HEADER_SIZE, HeaderSlot, LOG_VERSION } from "./header";
import { isZeroGuid } from "./guid";
import { RandomAccess, readOwned } from "./io";
import {
  KNOWN_METADATA,
  METADATA_TABLE_SIZE,
  MetadataTable,
  parseDiskParameters,
  parseMetadataTable,
  DiskParameters,
} from "./metadata";
import { notVhdxMessage, RECOGNIZE_HEAD_SIZE, RECOGNIZE_TAIL_SIZE } from "./recognize";
import { RegionRegistry } from "./registry";
import {
  BAT_REGION_GUID,
  METADATA_REGION_GUID,
  parseRegionTable,
  REGION_TABLE_OFFSETS,
  REGION_TABLE_SIZE,
  RegionTable,
  RegionTableEntry,
} from "./regionTable";

/** Something odd that does not stop the image from opening. */
export interface Warning {
  code: string;
  message: string;
  structure: string;
  offset?: number;
}

export interface RegionTableSlot {
  index: 0 | 1;
  fileOffset: number;
  table: RegionTable | null;
  error: VhdxError | null;
}

/** Everything read from the header section. */
export interface HeaderSection {
  creator: string;
  headerSlots: [HeaderSlot, HeaderSlot];
  currentHeaderIndex: 0 | 1;
  regionTableSlots: [RegionTableSlot, RegionTableSlot];
  regions: RegionTableEntry[];
  batRegion: RegionTableEntry;
  metadataRegion: RegionTableEntry;
}

export const HEADER_SECTION_SIZE = MiB;

/**
 * §2.2.1: a file without the "vhdxfile" signature is refused with NOT_VHDX, saying what it is
 * instead when its signatures tell (a VHD, qcow2, VMDK, VDI, a raw disk…), see recognize.ts.
 */
export async function requireVhdxSignature(io: RandomAccess, fileSize: number): Promise<void> {
  const signature = await io.read(0, Math.min(fileSize, 8));
  if (signature.length === 8 && String.fromCharCode(...signature) === FILE_IDENTIFIER_SIGNATURE) return;
  const head = await io.read(0, Math.min(fileSize, RECOGNIZE_HEAD_SIZE));
  const tail =
    fileSize >= RECOGNIZE_TAIL_SIZE
      ? await io.read(fileSize - RECOGNIZE_TAIL_SIZE, RECOGNIZE_TAIL_SIZE)
      : new Uint8Array(0);
  throw new VhdxError("NOT_VHDX", notVhdxMessage(head, tail, fileSize), "file type identifier", 0);
}

/** §2.2: file type identifier, both headers (current chosen by sequence number), both region tables. */
export async function readHeaderSection(
  io: RandomAccess,
  fileSize: number,
  warnings: Warning[],
): Promise<HeaderSection> {
  await requireVhdxSignature(io, fileSize); // a wrong signature says what the file is first
  if (fileSize < HEADER_SECTION_SIZE) {
    parseFileIdentifier(await io.read(0, 520));
    throw new VhdxError(
      "NOT_VHDX",
      `file is ${fileSize} bytes, shorter than the 1 MiB header section`,
      "header section",
      0,
    );
  }
  const section = await io.read(0, HEADER_SECTION_SIZE);
  const { creator } = parseFileIdentifier(section);

  const headerSlots = [0, 1].map((i) =>
    checkHeaderSlot(section.subarray(HEADER_OFFSETS[i], HEADER_OFFSETS[i] + HEADER_SIZE), i as 0 | 1),
  ) as [HeaderSlot, HeaderSlot];
  const chosen = chooseCurrentHeader(headerSlots);
  if (chosen < 0) {
    const why = headerSlots.map((s) => s.problems.map((p) => p.message).join("; ")).join("; ");
    throw new VhdxError("NO_VALID_HEADER", `neither header is valid: ${why}`, "header", HEADER_OFFSETS[0]);
  }
  const current = chosen as 0 | 1;
  for (const s of headerSlots) {
    if (!s.valid) {
      const p = s.problems[0];
      warnings.push({
        code: p.code,
        message: `${p.message}; using header ${current + 1}`,
        structure: "header",
        offset: s.fileOffset,
      });
    }
  }
  const header = headerSlots[current].header!;
  // §2.2.2 LogVersion: must be 0, or the file must not be processed unless LogGuid is zero.
  if (header.logVersion !== LOG_VERSION && !isZeroGuid(header.logGuid)) {
    throw new VhdxError(
      "UNSUPPORTED_VERSION",
      `log version ${header.logVersion} is not supported and the log is not empty`,
      "header",
      HEADER_OFFSETS[current] + 64,
    );
  }

  const regionTableSlots = [0, 1].map((i) => {
    const at = REGION_TABLE_OFFSETS[i];
    try {
      return {
        index: i,
        fileOffset: at,
        table: parseRegionTable(section.subarray(at, at + REGION_TABLE_SIZE), at),
        error: null,
      };
    } catch (e) {
      if (!(e instanceof VhdxError)) throw e;
      return { index: i, fileOffset: at, table: null, error: e };
    }
  }) as [RegionTableSlot, RegionTableSlot];
  const good = regionTableSlots.find((s) => s.table);
  if (!good) throw regionTableSlots[0].error!;
  for (const s of regionTableSlots) {
    if (s.error)
      warnings.push({
        code: s.error.code,
        message: `${s.error.message}; using region table ${good.index + 1}`,
        structure: "region table",
        offset: s.error.offset,
      });
  }
  const [a, b] = regionTableSlots;
  if (a.table && b.table && !sameRegions(a.table, b.table)) {
    warnings.push({
      code: "REGION_TABLE_MISMATCH",
      message: "the two region table copies differ; using the first",
      structure: "region table",
      offset: b.fileOffset,
    });
  }
  const regions = good.table!.entries;
  for (const r of regions) {
    if (r.guid !== BAT_REGION_GUID && r.guid !== METADATA_REGION_GUID && r.required === 1) {
      throw new VhdxError(
        "REQUIRED_REGION_UNKNOWN",
        `region ${r.guid} is marked required but is not known to this implementation`,
        "region table",
        good.fileOffset,
      );
    }
  }
  const batRegion = regions.find((r) => r.guid === BAT_REGION_GUID);
  const metadataRegion = regions.find((r) => r.guid === METADATA_REGION_GUID);
  if (!batRegion)
    throw new VhdxError("REGION_MISSING", "the region table has no BAT region", "region table", good.fileOffset);
  if (!metadataRegion)
    throw new VhdxError("REGION_MISSING", "the region table has no metadata region", "region table", good.fileOffset);
  return { creator, headerSlots, currentHeaderIndex: current, regionTableSlots, regions, batRegion, metadataRegion };
}

function sameRegions(a: RegionTable, b: RegionTable): boolean {
  if (a.entries.length !== b.entries.length) return false;
  return a.entries.every((e, i) => {
    const f = b.entries[i];
    return e.guid === f.guid && e.fileOffset === f.fileOffset && e.length === f.length && e.required === f.required;
  });
}

/** Registers the header section, the log and every region; structure overlaps are always fatal. */
export function registerStructures(hs: HeaderSection): RegionRegistry {
  const reg = new RegionRegistry();
  reg.add({ start: 0, length: HEADER_SECTION_SIZE, kind: "header-section", name: "header section" });
  const h = hs.headerSlots[hs.currentHeaderIndex].header!;
  if (h.logLength > 0) reg.add({ start: h.logOffset, length: h.logLength, kind: "log", name: "log" });
  for (const r of hs.regions) {
    const kind = r.guid === BAT_REGION_GUID ? "bat" : r.guid === METADATA_REGION_GUID ? "metadata" : "region";
    const name = kind === "region" ? `region ${r.guid}` : kind === "bat" ? "BAT region" : "metadata region";
    reg.add({ start: r.fileOffset, length: r.length, kind, name });
  }
  reg.check();
  return reg;
}

/** §2.6: the metadata table and the known items, each item read on its own (no region-sized buffers). */
export async function readMetadata(
  io: RandomAccess,
  region: RegionTableEntry,
  warnings: Warning[],
): Promise<{ table: MetadataTable; params: DiskParameters }> {
  if (region.length < METADATA_TABLE_SIZE) {
    throw new VhdxError(
      "METADATA_INVALID",
      `metadata region length ${region.length} is smaller than its 64 KiB table`,
      "metadata region",
      region.fileOffset,
    );
  }
  const table = parseMetadataTable(
    await io.read(region.fileOffset, METADATA_TABLE_SIZE),
    region.fileOffset,
    region.length,
  );
  const items = new Map<string, Uint8Array>();
  for (const e of table.entries) {
    if (!e.isUser && KNOWN_METADATA[e.itemId])
      items.set(e.itemId, await io.read(region.fileOffset + e.offset, e.length));
    else if (!KNOWN_METADATA[e.itemId]) {
      warnings.push({
        code: "METADATA_UNKNOWN",
        message: `metadata item ${e.itemId} is not known; kept as it is`,
        structure: "metadata table",
        offset: region.fileOffset + e.offset,
      });
    }
  }
  const params = parseDiskParameters(table, (e) => items.get(e.itemId) ?? new Uint8Array(0), region.fileOffset);
  return { table, params };
}

/** §2.5: reads the BAT entries the geometry needs, no more, and registers every allocated block. */
export async function readBat(
  io: RandomAccess,
  fileSize: number,
  region: RegionTableEntry,
  params: DiskParameters,
  registry: RegionRegistry,
  warnings: Warning[],
  dataEnd = fileSize,
): Promise<Bat> {
  const fp = params.fileParameters;
  const geometry = batGeometry(fp.blockSize, params.logicalSectorSize, params.virtualDiskSize, fp.hasParent);
  const needed = geometry.totalBatEntries * BAT_ENTRY_SIZE;
  if (region.length < needed) {
    throw new VhdxError(
      "BAT_TOO_SMALL",
      `BAT region holds ${Math.floor(region.length / BAT_ENTRY_SIZE)} entries but the virtual disk needs ${geometry.totalBatEntries}`,
      "BAT region",
      region.fileOffset,
    );
  }
  // Bounded by the file: entries past the end of the file are not read (they read as NOT_PRESENT).
  const inFile = Math.max(0, Math.min(needed, fileSize - region.fileOffset));
  if (inFile < needed) {
    warnings.push({
      code: "BAT_BEYOND_EOF",
      message: `the BAT region ends at ${hex(region.fileOffset + needed)}, past the end of the file (${hex(fileSize)})`,
      structure: "BAT region",
      offset: region.fileOffset,
    });
  }
  // Past `dataEnd` (a file grown by an in-memory log replay) every byte is zero: not read, not allocated.
  const withData = Math.max(0, Math.min(inFile, dataEnd - region.fileOffset));
  // Read straight into a buffer the Bat then adopts, where the backend can: no second 16 MiB copy.
  const raw = await readOwned(io, region.fileOffset, withData - (withData % BAT_ENTRY_SIZE));
  const bat = new Bat(geometry, raw.bytes, geometry.totalBatEntries, raw.owned);
  registerBlocks(bat, registry, fileSize);
  return bat;
}

export function registerBlocks(bat: Bat, registry: RegionRegistry, fileSize: number): void {
  const g = bat.geometry;
  // Entries the file does not hold are NOT_PRESENT: the loop follows the file, not the claimed length.
  const n = Math.min(bat.length, bat.words.length >>> 1);
  const w = bat.words;
  // Empty stretches are skipped a span at a time, and a span of identical chunks whose first owns no
  // space (QEMU's fresh images: ZERO entries) is settled by that first chunk. Within the rest, states
  // 6 and 7 (FULLY/PARTIALLY_PRESENT, SB_BLOCK_PRESENT) own space, and so do states 1 and 3
  // (UNDEFINED, UNMAPPED) keeping a FileOffsetMB (§2.5.1.1): one test on the raw word skips the others.
  const visit = (start: number, end: number): boolean => {
    let owned = false;
    for (let i = start; i < end; i++) {
      const lo = w[i * 2];
      if ((lo & 6) !== 6 && (lo & 5) !== 1) continue;
      const mb = bat.fileOffsetMB(i);
      const use = spaceUse(g, i, lo & 7, mb);
      if (use === "none") continue;
      if (use === "retained") {
        // Retained contents lie inside the file (§2.5.1.1 "a location in the VHDX file"); an offset
        // past its end or in the header section holds none and is left to `vhdx check`.
        const start = mb * MiB;
        if (start < HEADER_SECTION_SIZE || start + g.blockSize > fileSize) continue;
        registry.addBlock(start, g.blockSize, i, false, true);
      } else if (isSectorBitmapEntry(g, i)) {
        registry.addBlock(mb * MiB, SECTOR_BITMAP_BLOCK_SIZE, i, true);
      } else {
        registry.addBlock(mb * MiB, g.blockSize, i, false);
      }
      owned = true;
    }
    return owned;
  };
  visitSpans(w, n, g.chunkRatio + 1, visit);
}
