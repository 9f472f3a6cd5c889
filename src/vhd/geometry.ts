/**
 * The CHS geometry of the footer's "Disk Geometry" field, computed from a size as the Virtual
 * Hard Disk Image Format Specification's appendix gives it. The product C×H×S×512 is at most the
 * size: an ATA controller sees the disk through this geometry, so readers that size a disk by it
 * see a little less than the footer's current size.
 */
export interface ChsGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/** The largest geometry the field holds: 65535 cylinders, 16 heads, 255 sectors per track. */
export const MAX_CHS_SECTORS = 65535 * 16 * 255;

export function chsForSize(bytes: number): ChsGeometry {
  let total = Math.floor(bytes / 512);
  if (total > MAX_CHS_SECTORS) total = MAX_CHS_SECTORS;
  let spt: number;
  let heads: number;
  let cth: number;
  if (total >= 65535 * 16 * 63) {
    spt = 255;
    heads = 16;
    cth = Math.floor(total / spt);
  } else {
    spt = 17;
    cth = Math.floor(total / spt);
    heads = Math.max(4, Math.floor((cth + 1023) / 1024));
    if (cth >= heads * 1024 || heads > 16) {
      spt = 31;
      heads = 16;
      cth = Math.floor(total / spt);
    }
    if (cth >= heads * 1024) {
      spt = 63;
      heads = 16;
      cth = Math.floor(total / spt);
    }
  }
  return { cylinders: Math.floor(cth / heads), heads, sectorsPerTrack: spt };
}

/** Bytes the geometry addresses. */
export function chsBytes(g: ChsGeometry): number {
  return g.cylinders * g.heads * g.sectorsPerTrack * 512;
}
