/**
 * Names of new files in browser storage. A default output name never replaces a file: when
 * "converted.vhdx" is taken, the next is "converted (2).vhdx", then "converted (3).vhdx", the way
 * desktop file managers number copies. Names are compared without regard to case, so a download
 * to a case-insensitive disk never meets two files that differ by case alone.
 */

/** "disk.vhdx" → { stem: "disk", ext: ".vhdx" }; a leading dot is part of the stem (".probe"). */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return { stem: name, ext: "" };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/** "disk (3)" → { base: "disk", n: 3 }; a stem without a copy number is copy 1. */
function copyNumber(stem: string): { base: string; n: number } {
  const m = /^(.*\S) \((\d{1,6})\)$/.exec(stem);
  return m ? { base: m[1], n: Number(m[2]) } : { base: stem, n: 1 };
}

/**
 * `name` when no file in `taken` has it, else the first free "<stem> (n)<ext>" after it. The
 * search is bounded: among |taken| + 1 consecutive numbers one is always free.
 */
export function uniqueName(name: string, taken: Iterable<string>): string {
  const used = new Set(Array.from(taken, (t) => t.toLowerCase()));
  if (!used.has(name.toLowerCase())) return name;
  const { stem, ext } = splitExtension(name);
  const { base, n } = copyNumber(stem);
  for (let i = Math.max(2, n + 1); i <= n + used.size + 2; i++) {
    const candidate = `${base} (${i})${ext}`;
    if (!used.has(candidate.toLowerCase())) return candidate;
  }
  // Unreachable: the loop above tries more numbers than there are taken names.
  throw new Error(`no free name after ${name}`);
}

/** The partial file a job writes before it is renamed to `name` (never listed as a finished file). */
export const PARTIAL_SUFFIX = ".partial";

export function isPartial(name: string): boolean {
  return name.endsWith(PARTIAL_SUFFIX);
}
