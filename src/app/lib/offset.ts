/**
 * "Go to offset": a byte count (decimal, optionally with a KiB/MiB/GiB/TiB suffix), a 0x… hex
 * offset, or an LBA ("LBA 34", "lba:34", "34s") measured in the disk's logical sectors.
 */

export type OffsetUnit = "bytes" | "hex" | "lba";

export type OffsetParse = { ok: true; offset: number; unit: OffsetUnit } | { ok: false; error: string };

const SUFFIX: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses `text` into a byte offset. `sectorSize` scales LBAs; `limit` is the size of the space
 * being viewed (offsets must be below it).
 */
export function parseOffset(text: string, sectorSize: number, limit: number): OffsetParse {
  const t = text.trim().toLowerCase().replace(/[_,]/g, "");
  if (t === "") return { ok: false, error: "Enter an offset: bytes, 0x… hex, or LBA n" };
  let offset: number;
  let unit: OffsetUnit;
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^0x([0-9a-f]+)$/))) {
    if (m[1].length > 14) return { ok: false, error: "Offset is too large" };
    offset = parseInt(m[1], 16);
    unit = "hex";
  } else if ((m = t.match(/^(?:lba\s*[:=]?\s*(\d+)|(\d+)\s*s)$/))) {
    const digits = m[1] ?? m[2];
    if (digits.length > 16) return { ok: false, error: "LBA is too large" };
    offset = Number(digits) * sectorSize;
    unit = "lba";
  } else if ((m = t.match(/^(\d+(?:\.\d+)?)\s*([a-z]*)$/))) {
    const mult = SUFFIX[m[2]];
    if (mult === undefined) return { ok: false, error: `Unknown unit "${m[2]}"` };
    if (m[1].length > 17) return { ok: false, error: "Offset is too large" };
    offset = Number(m[1]) * mult;
    if (!Number.isInteger(offset)) return { ok: false, error: "Offset must be a whole number of bytes" };
    unit = "bytes";
  } else {
    return { ok: false, error: `Cannot read "${text.trim()}" as bytes, 0x… hex, or LBA n` };
  }
  if (!Number.isSafeInteger(offset)) return { ok: false, error: "Offset is too large" };
  if (offset >= limit) {
    return { ok: false, error: `Offset ${offset} is past the end (size ${limit})` };
  }
  return { ok: true, offset, unit };
}
