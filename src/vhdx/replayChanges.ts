/**
 * What a log replay changes, decoded: BAT entries (payload and sector bitmap entries, §2.5.1),
 * header fields (§2.2.2), region table entries (§2.2.3) and metadata items (§2.6), read from the
 * file as it is (`before`) and as replayed (`after`, an overlay holding the replay). Writes that
 * land elsewhere (payload data, sector bitmap blocks, free space) are named, not decoded.
 */
import { ascii, MiB, readU64Big, view } from "./bytes";
import { hex } from "./errors";
import {
  batGeometry,
  BAT_ENTRY_SIZE,
  blockOfEntry,
  isSectorBitmapEntry,
  PAYLOAD_STATE_NAMES,
  SB_STATE_NAMES,
} from "./bat";
import { readGuid } from "./guid";
import { HEADER_OFFSETS, HEADER_SIZE } from "./header";
import type { RandomAccess } from "./io";
import { itemName, KNOWN_METADATA, METADATA_TABLE_SIZE } from "./metadata";
import { REGION_TABLE_MAX_ENTRIES, REGION_TABLE_OFFSETS, REGION_TABLE_SIZE, regionName } from "./regionTable";

/** BAT entries listed one by one; past this they are counted (memory follows what is shown). */
export const MAX_LISTED_BAT_CHANGES = 1000;
/** BAT bytes read at a time while comparing. */
const BAT_CHUNK = MiB;

export interface BatEntryState {
  state: number;
  stateName: string;
  /** FileOffsetMB × 1 MiB. */
  fileOffset: number;
}

export type ReplayChange =
  | {
      kind: "bat";
      /** BAT entry index. */
      entry: number;
      /** A payload block entry or a sector bitmap entry (§2.5). */
      role: "payload" | "sector bitmap";
      /** The payload block number, or the chunk number of a sector bitmap entry. */
      block: number;
      before: BatEntryState;
      after: BatEntryState;
    }
  | { kind: "header"; slot: 1 | 2; field: string; before: string; after: string }
  | { kind: "region table"; slot: 1 | 2; field: string; before: string; after: string }
  | { kind: "metadata"; field: string; before: string; after: string }
  | { kind: "data"; fileOffset: number; length: number; structure: string }
  | { kind: "grow"; fileOffset: number; length: number };

/** A change with its one-line description (describeReplayChange), as the CLI and the editor show it. */
export type DescribedChange = ReplayChange & { text: string };

export interface ReplayChanges {
  changes: DescribedChange[];
  /** BAT entries that change past MAX_LISTED_BAT_CHANGES: counted, not listed. */
  batChangesNotListed: number;
}

/** Where the decoder looks: the regions and BAT geometry of the image (as replayed). */
export interface ChangeLayout {
  batOffset: number;
  batLength: number;
  metadataOffset: number;
  metadataLength: number;
  blockSize: number;
  logicalSectorSize: number;
  virtualDiskSize: number;
  hasParent: boolean;
  /** Names the structure a file offset lies in (the overlap registry). */
  structureAt: (offset: number) => string;
}

interface Range {
  start: number;
  length: number;
}

function overlaps(r: Range, start: number, length: number): boolean {
  return r.start < start + length && start < r.start + r.length;
}

/**
 * Decodes the changes of a replay: `ranges` are the file ranges the replay writes (as the overlay
 * lists them); a file that grows is told by the two sizes.
 */
export async function decodeReplayChanges(
  before: RandomAccess,
  after: RandomAccess,
  ranges: readonly Range[],
  layout: ChangeLayout,
): Promise<ReplayChanges> {
  const changes: ReplayChange[] = [];
  let batChangesNotListed = 0;
  let batListed = 0;
  const touches = (start: number, length: number) => ranges.some((r) => overlaps(r, start, length));
  const read2 = async (at: number, n: number) => [await before.read(at, n), await after.read(at, n)] as const;

  for (let i = 0; i < 2; i++) {
    if (!touches(HEADER_OFFSETS[i], HEADER_SIZE)) continue;
    const [b, a] = await read2(HEADER_OFFSETS[i], HEADER_SIZE);
    for (const [field, x, y] of fieldPairs(headerFields(b), headerFields(a)))
      changes.push({ kind: "header", slot: (i + 1) as 1 | 2, field, before: x, after: y });
  }
  for (let i = 0; i < 2; i++) {
    if (!touches(REGION_TABLE_OFFSETS[i], REGION_TABLE_SIZE)) continue;
    const [b, a] = await read2(REGION_TABLE_OFFSETS[i], REGION_TABLE_SIZE);
    for (const [field, x, y] of fieldPairs(regionFields(b), regionFields(a)))
      changes.push({ kind: "region table", slot: (i + 1) as 1 | 2, field, before: x, after: y });
  }
  if (touches(layout.metadataOffset, layout.metadataLength)) {
    const [b, a] = await read2(layout.metadataOffset, Math.min(layout.metadataLength, 2 * MiB));
    for (const [field, x, y] of fieldPairs(metadataFields(b), metadataFields(a)))
      changes.push({ kind: "metadata", field, before: x, after: y });
  }

  const g = batGeometry(layout.blockSize, layout.logicalSectorSize, layout.virtualDiskSize, layout.hasParent);
  for (const r of ranges) {
    const start = Math.max(r.start, layout.batOffset);
    const end = Math.min(r.start + r.length, layout.batOffset + layout.batLength);
    for (let at = start - ((start - layout.batOffset) % BAT_ENTRY_SIZE); at < end; at += BAT_CHUNK) {
      const n = Math.min(BAT_CHUNK, end - at) - (Math.min(BAT_CHUNK, end - at) % BAT_ENTRY_SIZE);
      if (n <= 0) break;
      const [b, a] = await read2(at, n);
      const [db, da] = [view(b), view(a)];
      for (let k = 0; k + BAT_ENTRY_SIZE <= n; k += BAT_ENTRY_SIZE) {
        const [wb, wa] = [readU64Big(db, k), readU64Big(da, k)];
        if (wb === wa) continue;
        if (batListed >= MAX_LISTED_BAT_CHANGES) {
          batChangesNotListed++;
          continue;
        }
        batListed++;
        const entry = (at + k - layout.batOffset) / BAT_ENTRY_SIZE;
        const sb = isSectorBitmapEntry(g, entry);
        changes.push({
          kind: "bat",
          entry,
          role: sb ? "sector bitmap" : "payload",
          block: sb ? Math.floor(entry / (g.chunkRatio + 1)) : blockOfEntry(g, entry),
          before: entryState(wb, sb),
          after: entryState(wa, sb),
        });
      }
    }
  }

  // Everything else is named by the structure it lands in.
  const decoded: Range[] = [
    ...HEADER_OFFSETS.map((start) => ({ start, length: HEADER_SIZE })),
    ...REGION_TABLE_OFFSETS.map((start) => ({ start, length: REGION_TABLE_SIZE })),
    { start: layout.metadataOffset, length: layout.metadataLength },
    { start: layout.batOffset, length: layout.batLength },
  ];
  for (const r of ranges) {
    for (const piece of subtract(r, decoded))
      changes.push({
        kind: "data",
        fileOffset: piece.start,
        length: piece.length,
        structure: layout.structureAt(piece.start),
      });
  }
  const [sizeBefore, sizeAfter] = [await before.size(), await after.size()];
  if (sizeAfter > sizeBefore) changes.push({ kind: "grow", fileOffset: sizeBefore, length: sizeAfter - sizeBefore });
  return { changes: changes.map(described), batChangesNotListed };
}

export function described(c: ReplayChange): DescribedChange {
  return { ...c, text: describeReplayChange(c) };
}

function entryState(word: bigint, sectorBitmap: boolean): BatEntryState {
  const state = Number(word & 7n);
  return {
    state,
    stateName: (sectorBitmap ? SB_STATE_NAMES : PAYLOAD_STATE_NAMES)[state],
    fileOffset: Number(word >> 20n) * MiB,
  };
}

/** The parts of `r` outside every range of `cut`. */
function subtract(r: Range, cut: readonly Range[]): Range[] {
  let pieces: Range[] = [r];
  for (const c of cut) {
    const next: Range[] = [];
    for (const p of pieces) {
      if (!overlaps(p, c.start, c.length)) {
        next.push(p);
        continue;
      }
      if (p.start < c.start) next.push({ start: p.start, length: c.start - p.start });
      const cEnd = c.start + c.length;
      const pEnd = p.start + p.length;
      if (pEnd > cEnd) next.push({ start: cEnd, length: pEnd - cEnd });
    }
    pieces = next;
  }
  return pieces;
}

/** Fields present on either side whose values differ, in a stable order. */
function fieldPairs(b: Map<string, string>, a: Map<string, string>): [string, string, string][] {
  const out: [string, string, string][] = [];
  const keys = [...b.keys(), ...[...a.keys()].filter((k) => !b.has(k))];
  for (const k of keys) {
    const [x, y] = [b.get(k) ?? "(absent)", a.get(k) ?? "(absent)"];
    if (x !== y) out.push([k, x, y]);
  }
  return out;
}

/** §2.2.2: the header's fields as text, read without judging them. */
function headerFields(b: Uint8Array): Map<string, string> {
  const dv = view(b);
  return new Map([
    ["Signature", JSON.stringify(ascii(b, 0, 4))],
    ["Checksum", hex(dv.getUint32(4, true))],
    ["SequenceNumber", readU64Big(dv, 8).toString()],
    ["FileWriteGuid", readGuid(b, 16)],
    ["DataWriteGuid", readGuid(b, 32)],
    ["LogGuid", readGuid(b, 48)],
    ["LogVersion", String(dv.getUint16(64, true))],
    ["Version", String(dv.getUint16(66, true))],
    ["LogLength", hex(dv.getUint32(68, true))],
    ["LogOffset", hex(readU64Big(dv, 72))],
  ]);
}

/** §2.2.3: the region table's header fields and each entry (by GUID), read without judging them. */
function regionFields(b: Uint8Array): Map<string, string> {
  const dv = view(b);
  const count = dv.getUint32(8, true);
  const m = new Map([
    ["Signature", JSON.stringify(ascii(b, 0, 4))],
    ["Checksum", hex(dv.getUint32(4, true))],
    ["EntryCount", String(count)],
  ]);
  for (let i = 0; i < Math.min(count, REGION_TABLE_MAX_ENTRIES); i++) {
    const at = 16 + i * 32;
    const guid = readGuid(b, at);
    const name = regionName(guid) === "unknown" ? guid : `${regionName(guid)} region`;
    m.set(`${name} FileOffset`, hex(readU64Big(dv, at + 16)));
    m.set(`${name} Length`, hex(dv.getUint32(at + 24, true)));
    m.set(`${name} Required`, String(dv.getUint32(at + 28, true) & 1));
  }
  return m;
}

/** §2.6.1: the metadata table's entries and the known system items' values, read without judging them. */
function metadataFields(region: Uint8Array): Map<string, string> {
  const dv = view(region);
  const count = dv.getUint16(10, true);
  const m = new Map([
    ["Signature", JSON.stringify(ascii(region, 0, 8))],
    ["EntryCount", String(count)],
  ]);
  for (let i = 0; i < Math.min(count, (METADATA_TABLE_SIZE - 32) / 32); i++) {
    const at = 32 + i * 32;
    const guid = readGuid(region, at);
    const offset = dv.getUint32(at + 16, true);
    const length = dv.getUint32(at + 20, true);
    const flags = dv.getUint32(at + 24, true);
    const user = (flags & 1) !== 0;
    const name = `${user ? "user item " : ""}${itemName(guid)}`;
    m.set(`${name} Offset`, hex(offset));
    m.set(`${name} Length`, String(length));
    m.set(`${name} flags`, `IsUser ${flags & 1}, IsVirtualDisk ${(flags >> 1) & 1}, IsRequired ${(flags >> 2) & 1}`);
    if (offset + length > region.length || length === 0) continue;
    const item = region.subarray(offset, offset + length);
    if (user || !KNOWN_METADATA[guid]) {
      m.set(`${name} value`, `${length} bytes, ${hashText(item)}`);
      continue;
    }
    for (const [k, v] of itemValues(guid, item)) m.set(k, v);
  }
  return m;
}

/** §2.6.2: a known system item's fields as text. */
function itemValues(guid: string, item: Uint8Array): [string, string][] {
  const dv = view(item);
  const name = itemName(guid);
  if (name === "File Parameters" && item.length >= 8) {
    const flags = dv.getUint32(4, true);
    return [
      ["File Parameters BlockSize", hex(dv.getUint32(0, true))],
      ["File Parameters LeaveBlocksAllocated", String(flags & 1)],
      ["File Parameters HasParent", String((flags >> 1) & 1)],
    ];
  }
  if (name === "Virtual Disk Size" && item.length >= 8) return [[name, hex(readU64Big(dv, 0))]];
  if ((name === "Logical Sector Size" || name === "Physical Sector Size") && item.length >= 4)
    return [[name, String(dv.getUint32(0, true))]];
  if ((name === "Virtual Disk ID" || name === "Page 83 Data") && item.length >= 16) return [[name, readGuid(item, 0)]];
  return [[`${name} value`, `${item.length} bytes, ${hashText(item)}`]];
}

/** A short fingerprint of bytes (FNV-1a), so a changed opaque item shows as changed. */
function hashText(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return `FNV-1a ${h.toString(16).padStart(8, "0")}`;
}

/** One line for a person: "BAT entry 200 (payload block 199): NOT_PRESENT → FULLY_PRESENT at file 0xD0_0000". */
export function describeReplayChange(c: ReplayChange): string {
  switch (c.kind) {
    case "bat": {
      const what = c.role === "payload" ? `payload block ${c.block}` : `sector bitmap entry of chunk ${c.block}`;
      const side = (s: BatEntryState) =>
        s.fileOffset > 0 ? `${s.stateName} at file ${hex(s.fileOffset)}` : s.stateName;
      return `BAT entry ${c.entry} (${what}): ${side(c.before)} → ${side(c.after)}`;
    }
    case "header":
      return `header ${c.slot} ${c.field}: ${c.before} → ${c.after}`;
    case "region table":
      return `region table ${c.slot} ${c.field}: ${c.before} → ${c.after}`;
    case "metadata":
      return `metadata ${c.field}: ${c.before} → ${c.after}`;
    case "data":
      return `${hex(c.length)} bytes at ${hex(c.fileOffset)} in ${c.structure}`;
    case "grow":
      return `the file grows by ${hex(c.length)} bytes from ${hex(c.fileOffset)}`;
  }
}
