/**
 * "Go to": what `parseOffset` reads (bytes, 0x… hex, LBA n), plus offsets relative to the cursor
 * ("+0x200", "-1 sector", "+4 KiB", "+2 blocks") and names: the raw file's structures ("bat",
 * "log", "metadata", "header 2", "region table 1", "file identifier") and the virtual disk's
 * partitions ("partition 2", or a GPT partition's name). A name belongs to one byte space and
 * switches the view to it.
 */
import type { ByteSpace } from "../store/engineApi";
import { parseOffset } from "./offset";

export interface NamedTarget {
  /** Names it answers to, lowercase, single spaces. */
  names: string[];
  space: ByteSpace;
  offset: number;
  /** How the status line calls it. */
  label: string;
}

export interface GotoContext {
  space: ByteSpace;
  cursor: number;
  /** The sizes of both spaces. */
  sizes: Record<ByteSpace, number>;
  /** Sector size of each space, for LBAs and "sector" (the virtual disk's logical sector; 4 KiB in the file). */
  sectorSizes: Record<ByteSpace, number>;
  /** Bytes per block, for "+N blocks". */
  blockSize: number;
  targets: readonly NamedTarget[];
}

export type GotoResult =
  { ok: true; space: ByteSpace; offset: number; label: string | null } | { ok: false; error: string };

const normal = (t: string) => t.trim().toLowerCase().replace(/\s+/g, " ");

/** The raw file's structures, where the image's info places them. */
export function fileStructureTargets(info: {
  headers: { index: number; fileOffset: number }[];
  regionTables: { index: number; fileOffset: number }[];
  regions: { name: string; fileOffset: number }[];
  log: { offset: number; length: number };
}): NamedTarget[] {
  const t = (names: string[], offset: number, label: string): NamedTarget => ({ names, space: "file", offset, label });
  const out: NamedTarget[] = [t(["file identifier", "file type identifier", "identifier"], 0, "file type identifier")];
  for (const h of info.headers) {
    const n = h.index + 1;
    out.push(t([`header ${n}`, `header${n}`, `h${n}`], h.fileOffset, `header ${n}`));
  }
  for (const r of info.regionTables) {
    const n = r.index + 1;
    out.push(
      t([`region table ${n}`, `region table${n}`, `regiontable${n}`, `rt${n}`], r.fileOffset, `region table ${n}`),
    );
  }
  const bat = info.regions.find((r) => r.name === "BAT");
  if (bat) out.push(t(["bat", "bat region", "block allocation table"], bat.fileOffset, "BAT"));
  const meta = info.regions.find((r) => r.name === "metadata");
  if (meta) out.push(t(["metadata", "metadata region", "meta"], meta.fileOffset, "metadata region"));
  if (info.log.length > 0) out.push(t(["log", "log region"], info.log.offset, "log"));
  return out;
}

/** The virtual disk's partitions: "partition N" (GPT entry or MBR slot numbers, from 1) and GPT names. */
export function partitionTargets(
  partitions: readonly { number: number; name?: string; offset: number }[],
): NamedTarget[] {
  return partitions.map((p) => ({
    names: [`partition ${p.number}`, `partition${p.number}`, `p${p.number}`, ...(p.name ? [normal(p.name)] : [])],
    space: "virtual" as const,
    offset: p.offset,
    label: `partition ${p.number}${p.name ? ` "${p.name}"` : ""}`,
  }));
}

/** Reads a relative amount: bytes (with K/M/G/T suffixes), 0x… hex, sectors or blocks. */
function amount(text: string, ctx: GotoContext): { ok: true; bytes: number } | { ok: false; error: string } {
  const t = normal(text).replace(/[_,]/g, "");
  const blocks = /^(\d+) ?blocks?$/.exec(t);
  if (blocks) {
    const n = Number(blocks[1]) * ctx.blockSize;
    return Number.isSafeInteger(n) ? { ok: true, bytes: n } : { ok: false, error: "The step is too large" };
  }
  const unit = t.replace(/^(\d+) ?(?:sectors?|lbas?)$/, "$1s");
  const r = parseOffset(unit, ctx.sectorSizes[ctx.space], Number.MAX_SAFE_INTEGER);
  if (!r.ok) {
    return {
      ok: false,
      error: `Cannot read "${text.trim()}" as a step: bytes (4 KiB), 0x… hex, N sectors or N blocks`,
    };
  }
  return { ok: true, bytes: r.offset };
}

/** Parses what was typed into Go to; the target lies inside its space or an error says why not. */
export function parseGoto(text: string, ctx: GotoContext): GotoResult {
  const t = normal(text);
  const rel = /^([+-]) ?(.+)$/.exec(t);
  if (rel) {
    const a = amount(rel[2], ctx);
    if (!a.ok) return a;
    const offset = rel[1] === "+" ? ctx.cursor + a.bytes : ctx.cursor - a.bytes;
    if (offset < 0) return { ok: false, error: `That is ${-offset} byte${offset === -1 ? "" : "s"} before the start` };
    const size = ctx.sizes[ctx.space];
    if (offset >= size) return { ok: false, error: `Offset ${offset} is past the end (size ${size})` };
    return { ok: true, space: ctx.space, offset, label: null };
  }
  const named = ctx.targets.find((x) => x.names.includes(t));
  if (named) {
    if (named.offset >= ctx.sizes[named.space])
      return { ok: false, error: `The ${named.label} lies past the end (at ${named.offset})` };
    return { ok: true, space: named.space, offset: named.offset, label: named.label };
  }
  const r = parseOffset(text, ctx.sectorSizes[ctx.space], ctx.sizes[ctx.space]);
  if (!r.ok) {
    if (/^[a-z]/.test(t) && !/^lba/.test(t)) {
      const names = ctx.targets.map((x) => x.names[0]);
      return {
        ok: false,
        error: `Unknown name "${text.trim()}"${names.length ? `; try ${names.slice(0, 8).join(", ")}` : ""}`,
      };
    }
    return r;
  }
  return { ok: true, space: ctx.space, offset: r.offset, label: null };
}
