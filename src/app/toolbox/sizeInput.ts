/**
 * Sizes typed in the toolbox's forms ("64G", "1.5 TiB", "512M", "4096") and the spec's limits on
 * a new image's parameters, so the form says what is wrong before anything is asked of the engine.
 */
const UNIT: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
export const MiB = 2 ** 20;
/** §2.6.2.2: a virtual disk is at most 64 TiB. */
export const MAX_VIRTUAL_SIZE = 64 * 2 ** 40;

/** Bytes, or null when the text is not a size. K, M, G, T are powers of 1024 ("iB" and "B" optional). */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const v = Number(m[1]) * UNIT[m[2].toLowerCase()];
  return Number.isSafeInteger(Math.round(v)) && Math.round(v) === v ? v : null;
}

export interface NewImageFields {
  type: "dynamic" | "fixed" | "differencing";
  size: string;
  blockSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  logSize: number;
}

/** What is wrong with each field, by name; empty when the image can be made. */
export function newImageProblems(f: NewImageFields): Partial<Record<keyof NewImageFields, string>> {
  const out: Partial<Record<keyof NewImageFields, string>> = {};
  if (f.type !== "differencing") {
    const size = parseSize(f.size);
    if (size === null) out.size = "a size such as 64G, 500M or 1T";
    else if (size <= 0 || size > MAX_VIRTUAL_SIZE) out.size = "from one sector up to 64 TiB (§2.6.2.2)";
    else if (size % f.logicalSectorSize !== 0)
      out.size = `a multiple of the logical sector size, ${f.logicalSectorSize} bytes (§2.6.2.2)`;
  }
  // §2.6.2.1: a power of two from 1 MiB to 256 MiB.
  const b = f.blockSize;
  const parents = f.type === "differencing" && b === 0; // 0: the parent's block size
  if (!parents && (b < MiB || b > 256 * MiB || (b & (b - 1)) !== 0))
    out.blockSize = "a power of two from 1 MiB to 256 MiB (§2.6.2.1)";
  // §2.6.2.4, §2.6.2.5: 512 or 4096.
  if (f.logicalSectorSize !== 512 && f.logicalSectorSize !== 4096)
    out.logicalSectorSize = "512 or 4096 bytes (§2.6.2.4)";
  if (f.physicalSectorSize !== 512 && f.physicalSectorSize !== 4096)
    out.physicalSectorSize = "512 or 4096 bytes (§2.6.2.5)";
  // §2.2.2 LogLength: a multiple of 1 MiB.
  if (f.logSize < MiB || f.logSize % MiB !== 0 || f.logSize >= 4096 * MiB)
    out.logSize = "a multiple of 1 MiB below 4 GiB (§2.2.2)";
  return out;
}
