import { SECTOR } from "./batUpdate";
import { hex, VhdxError } from "./errors";
import { VhdxImage } from "./image";
import { RandomAccess } from "./io";
import { MetadataUpdate, OverlayBackend } from "./log";
import { readBat, readHeaderSection, readMetadata, registerStructures, Warning } from "./open";
import { structureRangeProblemIn, type StructureLayout } from "./structureRanges";
import { VhdxWriter } from "./write";

/** A structure patch edit: raw file bytes inside the BAT, the metadata region or a region table. */
export interface StructureEdit {
  fileOffset: number;
  data: Uint8Array;
}

/** Why a file range may not be patched directly, or null when it may (the rule in structureRanges.ts). */
export function structureRangeProblem(img: VhdxImage, fileOffset: number, length: number): string | null {
  return structureRangeProblemIn(imageLayout(img), fileOffset, length);
}

/** Where the open image's structures lie, for the range rule. */
export function imageLayout(img: VhdxImage): StructureLayout {
  return {
    bat: img.batRegion,
    metadata: img.metadataRegion,
    log: { fileOffset: img.header.logOffset, length: img.header.logLength },
  };
}

/** The edits as whole 4 KiB file sectors, read from `io` and patched in order. */
async function toSectors(io: RandomAccess, edits: readonly StructureEdit[]): Promise<MetadataUpdate[]> {
  const sectors = new Map<number, Uint8Array>();
  for (const e of edits) {
    for (let s = Math.floor(e.fileOffset / SECTOR) * SECTOR; s < e.fileOffset + e.data.length; s += SECTOR) {
      let buf = sectors.get(s);
      if (!buf) sectors.set(s, (buf = await io.read(s, SECTOR)));
      const from = Math.max(s, e.fileOffset);
      const to = Math.min(s + SECTOR, e.fileOffset + e.data.length);
      buf.set(e.data.subarray(from - e.fileOffset, to - e.fileOffset), from - s);
    }
  }
  return [...sectors.entries()].sort((a, b) => a[0] - b[0]).map(([fileOffset, data]) => ({ fileOffset, data }));
}

/** Everything the open path reads from the structures, from any backend; throws what open would. */
export async function readStructures(io: RandomAccess) {
  const warnings: Warning[] = [];
  const fileSize = await io.size();
  const section = await readHeaderSection(io, fileSize, warnings);
  const registry = registerStructures(section);
  const { table, params } = await readMetadata(io, section.metadataRegion, warnings);
  const bat = await readBat(io, fileSize, section.batRegion, params, registry, warnings);
  const overlaps = registry.overlaps();
  return { fileSize, section, registry, table, params, bat, warnings, overlaps };
}

export type StructureCheck = { ok: true; sectors: MetadataUpdate[] } | { ok: false; reason: string };

/**
 * Checks a structure patch before it is committed: every edit inside the BAT, the metadata region
 * or a region table, and the patched file must still open without new problems (applied to an
 * in-memory overlay and read back through the same code the open path uses).
 */
export async function checkStructurePatch(img: VhdxImage, edits: readonly StructureEdit[]): Promise<StructureCheck> {
  if (edits.length === 0) return { ok: false, reason: "the patch is empty" };
  for (const e of edits) {
    const problem = structureRangeProblem(img, e.fileOffset, e.data.length);
    if (problem) return { ok: false, reason: problem };
  }
  const sectors = await toSectors(img.file, edits);
  const overlay = await OverlayBackend.over(img.file);
  for (const s of sectors) await overlay.write(s.fileOffset, s.data);
  const known = new Set(img.warnings.map((w) => `${w.code}@${w.offset}`));
  try {
    const after = await readStructures(overlay);
    if (after.overlaps.length > 0) {
      const [a, b] = after.overlaps[0];
      return {
        ok: false,
        reason: `after the patch ${a.name} [${hex(a.start)}, ${hex(a.start + a.length)}) would overlap ${b.name} [${hex(b.start)}, ${hex(b.start + b.length)})`,
      };
    }
    // An item the spec does not define, not required, is kept as it is (§2.6.1.2): not a problem,
    // wherever the patch puts it (a merge copies the child's IsVirtualDisk items in, a relayout moves them).
    const fresh = after.warnings.filter((w) => w.code !== "METADATA_UNKNOWN" && !known.has(`${w.code}@${w.offset}`));
    if (fresh.length > 0) return { ok: false, reason: `after the patch: ${fresh[0].message}` };
  } catch (e) {
    if (e instanceof VhdxError)
      return { ok: false, reason: `after the patch the image would not open: ${e.describe()}` };
    throw e;
  }
  return { ok: true, sectors };
}

export interface StructurePatchOptions {
  /**
   * False when the edit cannot change what the virtual disk reads (a parent locator path): the
   * session's header update then renews FileWriteGuid only, not DataWriteGuid (§2.2.2), so
   * children linked to this image's DataWriteGuid stay linked. Default true: a raw edit of the
   * BAT or the metadata may change the virtual disk.
   */
  virtualDiskChanges?: boolean;
}

/**
 * Commits raw structure edits as ONE log entry of data descriptors (§2.3), after checking them
 * (refused with the reason otherwise), then re-reads the structures into the open image.
 * `virtualDiskChanges: false` is for edits no virtual disk read can observe (a parent locator's linkage):
 * §2.2.2 then asks for no new DataWriteGuid, so the image's own children stay linked to it.
 */
export async function commitStructurePatch(
  writer: VhdxWriter,
  edits: readonly StructureEdit[],
  opts: StructurePatchOptions = {},
): Promise<void> {
  await writer.mutex.run(async () => {
    const img = writer.image;
    const check = await checkStructurePatch(img, edits);
    if (!check.ok)
      throw new VhdxError(
        "PATCH_INVALID",
        `structure patch refused: ${check.reason}`,
        "structure patch",
        edits[0]?.fileOffset,
      );
    if (opts.virtualDiskChanges ?? true) await writer.beginDataWrite();
    else await writer.beginFileWrite();
    await writer.commitSectors(check.sectors, () => reloadStructures(writer));
  });
}

/** After a commit changed structures: the open image re-reads them all from its file. */
export async function reloadStructures(writer: VhdxWriter): Promise<void> {
  const img = writer.image;
  const s = await readStructures(img.file);
  img.fileSize = s.fileSize;
  img.regionTableSlots = s.section.regionTableSlots;
  img.regions = s.section.regions;
  img.batRegion = s.section.batRegion;
  img.metadataRegion = s.section.metadataRegion;
  img.metadataTable = s.table;
  img.params = s.params;
  img.bat = s.bat;
  img.registry = s.registry;
  img.warnings = s.warnings;
  img.invalidateCaches();
  writer.allocator.reset();
}
