import { openImage, VhdxImage } from "../vhdx/image";
import { NodeFileBackend } from "../node/fileBackend";
import { closeChain } from "../vhdx/chain";
import { flagString, oneImage, ParsedArgs, parseSize, UsageError } from "./args";
import { formatSize, hexOffset, table, toJson } from "./format";

export interface Io {
  out(s: string): void;
  /** Binary output with backpressure; once the promise resolves, `b` is no longer needed (its buffer may be reused). */
  outBytes(b: Uint8Array): Promise<void>;
}

/** Opens the file at `path` read-only under a shared lock, then `open` on it; the file is closed if that fails. */
export async function openShared<T>(path: string, open: (file: NodeFileBackend) => Promise<T>): Promise<T> {
  const file = await NodeFileBackend.open(path, { readOnly: true, lock: "shared" });
  try {
    return await open(file);
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** Opens read-only with the log replayed in memory: viewing never writes. */
export function openForViewing(path: string): Promise<VhdxImage> {
  return openShared(path, (file) => openImage(file, { readOnly: true }));
}

/** `info`'s output: the JSON with --json, else the table's rows and a line per warning. */
export function printInfo(
  a: ParsedArgs,
  io: Io,
  info: { warnings: readonly { message: string }[] },
  rows: () => string[][],
): number {
  if (a.flags.has("json")) {
    io.out(toJson(info) + "\n");
    return 0;
  }
  io.out(table(rows()) + "\n");
  for (const w of info.warnings) io.out(`warning: ${w.message}\n`);
  return 0;
}

/** `cat`'s --offset and --length, checked against the virtual disk's size. */
export function catRange(a: ParsedArgs, virtualSize: number): { offset: number; length: number } {
  const offset = a.flags.has("offset") ? parseSize(flagString(a, "offset")!, "--offset") : 0;
  if (offset > virtualSize)
    throw new UsageError(`--offset ${offset} is past the end of the virtual disk (${virtualSize} bytes)`);
  const length = a.flags.has("length") ? parseSize(flagString(a, "length")!, "--length") : virtualSize - offset;
  if (offset + length > virtualSize)
    throw new UsageError(`--offset + --length runs past the end of the virtual disk (${virtualSize} bytes)`);
  return { offset, length };
}

export async function infoCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "info");
  const vhd = await import("./vhdCommands");
  if (await vhd.isVhdFile(path)) return vhd.vhdInfoCommand(path, a, io);
  const img = await openForViewing(path);
  try {
    const info = img.info();
    return printInfo(a, io, info, () => infoRows(info));
  } finally {
    await img.close();
  }
}

function infoRows(info: ReturnType<VhdxImage["info"]>): string[][] {
  const cur = info.headers.find((h) => h.current)!;
  const rows: string[][] = [
    ["disk type", info.diskType],
    ["virtual size", `${formatSize(info.virtualSize)} (${info.virtualSize} bytes)`],
    ["block size", formatSize(info.blockSize)],
    ["sector size", `${info.logicalSectorSize} logical, ${info.physicalSectorSize} physical`],
    ["virtual disk id", info.virtualDiskId],
    ["file size", `${formatSize(info.fileSize)} (${info.fileSize} bytes)`],
    ["creator", info.creator || "(none)"],
    ["current header", `${cur.index + 1} (sequence ${cur.sequenceNumber})`],
    ["file write guid", cur.fileWriteGuid ?? ""],
    ["data write guid", cur.dataWriteGuid ?? ""],
    [
      "log",
      `${formatSize(info.log.length)} at ${hexOffset(info.log.offset)}${info.log.needsReplay ? " — needs replay (shown replayed, file untouched)" : ", empty"}`,
    ],
  ];
  for (const r of info.regions)
    rows.push([
      `region ${r.name}`,
      `${formatSize(r.length)} at ${hexOffset(r.fileOffset)}${r.required ? ", required" : ""}`,
    ]);
  const counts = (rec: Record<string, number>) =>
    Object.entries(rec)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  rows.push([
    "BAT entries",
    `${info.bat.entries} (payload: ${counts(info.bat.payload)}; sector bitmap: ${counts(info.bat.sectorBitmap) || "none"})`,
  ]);
  if (info.parentLocator) for (const e of info.parentLocator.entries) rows.push([`parent ${e.key}`, e.value]);
  return rows;
}

/** Virtual-disk bytes to stdout, a block at a time. */
export async function catCommand(a: ParsedArgs, io: Io): Promise<number> {
  // A differencing disk reads through its parents: the chain is opened read-only, like the image.
  // The resolver is loaded here only: info, map and log share this module and never need it.
  const path = oneImage(a, "cat");
  const vhd = await import("./vhdCommands");
  if (await vhd.isVhdFile(path)) return vhd.vhdCatCommand(path, a, io);
  const { openWithParents } = await import("../node/resolveParent");
  const { image: img, chain } = await openWithParents(path, { lock: true });
  try {
    const { offset, length } = catRange(a, img.virtualSize);
    // Each piece is written out before the next is asked for, so the pieces may share buffers.
    for await (const piece of img.segments(offset, length, { reuse: true })) await io.outBytes(piece);
    return 0;
  } finally {
    await closeChain(chain);
  }
}

export async function mapCommand(a: ParsedArgs, io: Io): Promise<number> {
  const img = await openForViewing(oneImage(a, "map"));
  try {
    const map = img.map();
    if (a.flags.has("json")) {
      io.out(toJson(map) + "\n");
      return 0;
    }
    type Row = { start: number; end: number; what: string };
    const rows: Row[] = [];
    // Runs of adjacent payload blocks collapse into one line (the engine's runs, each `blocks` long).
    for (const e of map.extents) {
      const prev = rows[rows.length - 1];
      const isBlock = e.kind === "payload-block" || e.kind === "sector-bitmap-block";
      const label = isBlock ? (e.kind === "payload-block" ? "payload blocks" : "sector bitmap blocks") : e.name;
      const count = e.blocks ?? 1;
      if (isBlock && prev && prev.what.startsWith(label) && prev.end === e.start) {
        prev.end = e.end;
        const n = Number(/\((\d+)\)/.exec(prev.what)?.[1] ?? "1") + count;
        prev.what = `${label} (${n})`;
      } else rows.push({ start: e.start, end: e.end, what: isBlock ? `${label} (${count})` : e.name });
    }
    for (const g of map.gaps) rows.push({ start: g.start, end: g.start + g.length, what: "free" });
    rows.sort((x, y) => x.start - y.start || x.end - y.end);
    io.out(
      table([
        ["start", "end", "size", "what"],
        ...rows.map((r) => [hexOffset(r.start), hexOffset(r.end), formatSize(r.end - r.start), r.what]),
      ]) + "\n",
    );
    io.out(`file size ${formatSize(map.fileSize)} (${map.fileSize} bytes)\n`);
    for (const o of map.overlaps) io.out(`OVERLAP: ${o.message}\n`);
    for (const p of map.pastEnd) io.out(`PAST END OF FILE: ${p.name} ends at ${hexOffset(p.end)}\n`);
    return 0;
  } finally {
    await img.close();
  }
}
