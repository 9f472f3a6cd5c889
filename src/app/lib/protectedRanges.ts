/**
 * The raw-file ranges a typed edit may not touch, from the image's info, by the engine's own rule
 * (src/vhdx/structureRanges.ts, the one Commit applies): the hex view shades them and the store
 * refuses a staged write there at once.
 */
import {
  protectedAt,
  protectedRanges,
  structureRangeProblemIn,
  type ProtectedRange,
  type StructureLayout,
} from "../../vhdx/structureRanges";
import { BAT_REGION_GUID, METADATA_REGION_GUID } from "../../vhdx/regionTable";
import type { ByteSpace, ImageInfo } from "../store/engineApi";

export type { ProtectedRange };
export { protectedAt };

/** The layout the rule needs, as `vhdx info --json` reports it. */
export function layoutOf(info: ImageInfo): StructureLayout {
  const region = (guid: string) => {
    const r = info.regions.find((x) => x.guid === guid);
    return r ? { fileOffset: r.fileOffset, length: r.length } : { fileOffset: 0, length: 0 };
  };
  return {
    bat: region(BAT_REGION_GUID),
    metadata: region(METADATA_REGION_GUID),
    log: { fileOffset: info.log.offset, length: info.log.length },
  };
}

const cache = new WeakMap<ImageInfo, ProtectedRange[]>();

/** The protected ranges of the raw file (computed once per info). */
export function fileProtectedRanges(info: ImageInfo): ProtectedRange[] {
  let r = cache.get(info);
  if (!r) cache.set(info, (r = protectedRanges(layoutOf(info), info.fileSize)));
  return r;
}

/** Why a write of `length` bytes at `offset` of `space` cannot be staged, or null when it can. */
export function stageRefusal(info: ImageInfo | null, space: ByteSpace, offset: number, length: number): string | null {
  if (!info || space !== "file" || length <= 0) return null;
  const problem = structureRangeProblemIn(layoutOf(info), offset, length);
  return problem && `Raw file edit refused: ${problem}`;
}
