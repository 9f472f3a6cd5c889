import { equalBytes, isAllZero, MiB } from "./bytes";

/** §2.5.1.1 Payload BAT entry states. */
export const PAYLOAD_BLOCK_NOT_PRESENT = 0;
export const PAYLOAD_BLOCK_UNDEFINED = 1;
export const PAYLOAD_BLOCK_ZERO = 2;
export const PAYLOAD_BLOCK_UNMAPPED = 3;
export const PAYLOAD_BLOCK_FULLY_PRESENT = 6;
export const PAYLOAD_BLOCK_PARTIALLY_PRESENT = 7;
/** §2.5.1.2 Sector bitmap BAT entry states. */
export const SB_BLOCK_NOT_PRESENT = 0;
export const SB_BLOCK_PRESENT = 6;

export const PAYLOAD_STATE_NAMES: Record<number, string> = {
  0: "NOT_PRESENT",
  1: "UNDEFINED",
  2: "ZERO",
  3: "UNMAPPED",
  4: "RESERVED_4",
  5: "RESERVED_5",
  6: "FULLY_PRESENT",
  7: "PARTIALLY_PRESENT",
};
export const SB_STATE_NAMES: Record<number, string> = {
  0: "NOT_PRESENT",
  1: "RESERVED_1",
  2: "RESERVED_2",
  3: "RESERVED_3",
  4: "RESERVED_4",
  5: "RESERVED_5",
  6: "PRESENT",
  7: "RESERVED_7",
};

export const BAT_ENTRY_SIZE = 8;
/** §2.4: a sector bitmap block describes 2^23 sectors. */
export const SECTORS_PER_BITMAP_BLOCK = 1 << 23;
export const SECTOR_BITMAP_BLOCK_SIZE = MiB;

/** §2.4–2.5: the numbers that follow from block size, sector size and virtual size. */
export interface BatGeometry {
  blockSize: number;
  logicalSectorSize: number;
  virtualDiskSize: number;
  /** Payload blocks per sector bitmap block: 2^23 × LogicalSectorSize / BlockSize. */
  chunkRatio: number;
  /** ceil(VirtualDiskSize / BlockSize). */
  dataBlocksCount: number;
  /** ceil(DataBlocksCount / ChunkRatio). */
  sectorBitmapBlocksCount: number;
  /** Entries the BAT must hold for this disk type. */
  totalBatEntries: number;
}

export function batGeometry(
  blockSize: number,
  logicalSectorSize: number,
  virtualDiskSize: number,
  hasParent: boolean,
): BatGeometry {
  const chunkRatio = (SECTORS_PER_BITMAP_BLOCK * logicalSectorSize) / blockSize;
  const dataBlocksCount = Math.ceil(virtualDiskSize / blockSize);
  const sectorBitmapBlocksCount = Math.ceil(dataBlocksCount / chunkRatio);
  // §2.5: dynamic — the last entry locates the last payload block; differencing — the last sector bitmap block.
  const totalBatEntries = hasParent
    ? sectorBitmapBlocksCount * (chunkRatio + 1)
    : dataBlocksCount + Math.floor((dataBlocksCount - 1) / chunkRatio);
  return {
    blockSize,
    logicalSectorSize,
    virtualDiskSize,
    chunkRatio,
    dataBlocksCount,
    sectorBitmapBlocksCount,
    totalBatEntries,
  };
}

/** BAT index of payload block `block`: the sector bitmap entry follows each chunk's payload entries. */
export function payloadEntryIndex(g: BatGeometry, block: number): number {
  return block + Math.floor(block / g.chunkRatio);
}

/** BAT index of the sector bitmap entry of chunk `chunk`. */
export function sectorBitmapEntryIndex(g: BatGeometry, chunk: number): number {
  return chunk * (g.chunkRatio + 1) + g.chunkRatio;
}

/** True when BAT entry `index` is a sector bitmap entry. */
export function isSectorBitmapEntry(g: BatGeometry, index: number): boolean {
  return index % (g.chunkRatio + 1) === g.chunkRatio;
}

/**
 * §2.5.1.1: an UNMAPPED or UNDEFINED entry may keep a non-zero FileOffsetMB that "MUST point to a
 * location in the VHDX file that MUST contain the contents of the block" before the transition, and
 * §2.5.1 makes non-zero offsets unique across the BAT: such a block owns its space as a present
 * one does (a retained block). For NOT_PRESENT and ZERO the field is reserved and owns nothing.
 */
export function isRetainedState(state: number): boolean {
  return state === PAYLOAD_BLOCK_UNMAPPED || state === PAYLOAD_BLOCK_UNDEFINED;
}

/** What a BAT entry's space is: none, a present block (payload or sector bitmap), or a retained block. */
export type SpaceUse = "none" | "present" | "retained";

/** How entry `index` in state `state` with `fileOffsetMB` uses file space (§2.5.1, §2.5.1.1, §2.5.1.2). */
export function spaceUse(g: BatGeometry, index: number, state: number, fileOffsetMB: number): SpaceUse {
  if (isSectorBitmapEntry(g, index)) return state === SB_BLOCK_PRESENT ? "present" : "none";
  if (state === PAYLOAD_BLOCK_FULLY_PRESENT || state === PAYLOAD_BLOCK_PARTIALLY_PRESENT) return "present";
  return isRetainedState(state) && fileOffsetMB !== 0 ? "retained" : "none";
}

/** The payload block number of a payload entry index. */
export function blockOfEntry(g: BatGeometry, index: number): number {
  return index - Math.floor(index / (g.chunkRatio + 1));
}

/**
 * The BAT held as its raw little-endian bytes, decoded on access: 8 bytes an entry,
 * no per-entry objects, so a 64 TiB disk's 2 million entries cost 16 MiB.
 */
export class Bat {
  readonly geometry: BatGeometry;
  /** Raw entries as (lo, hi) u32 pairs. */
  words: Uint32Array;
  readonly length: number;

  /**
   * `raw` holds the on-disk entries; it may be shorter than `length` entries (a BAT cut off by the
   * end of the file), in which case the missing entries read as 0 (NOT_PRESENT).
   */
  /**
   * `owned`: `raw` is a buffer of the caller's own that nothing else will touch, so it is adopted
   * as it is instead of copied (a 64 TiB disk's BAT is 16 MiB).
   */
  constructor(geometry: BatGeometry, raw: Uint8Array, length = Math.floor(raw.length / BAT_ENTRY_SIZE), owned = false) {
    this.geometry = geometry;
    this.length = length;
    // Memory follows the bytes actually present, not the entry count the metadata claims.
    const present = Math.min(length, Math.floor(raw.length / BAT_ENTRY_SIZE));
    const n = present * BAT_ENTRY_SIZE;
    if (owned && raw.byteOffset === 0 && raw.buffer.byteLength === n && raw.buffer instanceof ArrayBuffer) {
      this.words = new Uint32Array(raw.buffer, 0, present * 2);
    } else {
      const copy = new Uint8Array(n);
      copy.set(raw.subarray(0, n));
      this.words = new Uint32Array(copy.buffer);
    }
    if (!littleEndianHost) for (let i = 0; i < this.words.length; i++) this.words[i] = swap32(this.words[i]);
  }

  state(index: number): number {
    return (this.words[index * 2] ?? 0) & 7;
  }

  /** FileOffsetMB (44 bits) as a number. */
  fileOffsetMB(index: number): number {
    if (index * 2 >= this.words.length) return 0;
    return (this.words[index * 2] >>> 20) + this.words[index * 2 + 1] * 4096;
  }

  /** The 17 reserved bits (bits 3–19). */
  reserved(index: number): number {
    return ((this.words[index * 2] ?? 0) >>> 3) & 0x1ffff;
  }

  set(index: number, state: number, fileOffsetMB: number): void {
    if (index >= this.length) throw new RangeError(`BAT entry ${index} is past the BAT's ${this.length} entries`);
    if (index * 2 >= this.words.length) {
      const grown = new Uint32Array(this.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    this.words[index * 2] = ((state & 7) | ((fileOffsetMB % 4096) << 20)) >>> 0;
    this.words[index * 2 + 1] = Math.floor(fileOffsetMB / 4096) >>> 0;
  }

  /** The 8 on-disk bytes of entry `index`. */
  entryBytes(index: number): Uint8Array {
    return encodeBatEntry(this.state(index), this.fileOffsetMB(index));
  }
}

export function encodeBatEntry(state: number, fileOffsetMB: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, ((state & 7) | ((fileOffsetMB % 4096) << 20)) >>> 0, true);
  dv.setUint32(4, Math.floor(fileOffsetMB / 4096) >>> 0, true);
  return out;
}

/** Entries per span that forEachSpan tests at once (256 KiB of BAT). */
const SPAN = 32768;

/** What forEachSpan finds in each span of entries [start, end). */
export interface SpanVisitor {
  /** Every byte is zero: every entry NOT_PRESENT, with no other bit set. */
  zero(start: number, end: number): void;
  /** Two or more whole runs of `align` entries, each the same bytes as the first. */
  repeat(start: number, end: number): void;
  /** Anything else. */
  other(start: number, end: number): void;
}

/**
 * Walks entries [0, n) of `words` in consecutive spans of about SPAN entries, each starting at a
 * multiple of `align` (with `align` = chunkRatio + 1, a span holds whole chunks), and tells the
 * visitor what each holds. One or two native comparisons per span: the empty stretches of a sparse
 * BAT, and the chunk after chunk of ZERO entries QEMU writes when it creates an image, cost next to
 * nothing on a 64 TiB disk (2 million entries); a BAT with varied entries pays those tests once per span.
 */
export function forEachSpan(words: Uint32Array, n: number, align: number, v: SpanVisitor): void {
  const step = Math.max(2 * align, Math.ceil(SPAN / align) * align);
  const period = align * BAT_ENTRY_SIZE;
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    const bytes = new Uint8Array(
      words.buffer,
      words.byteOffset + start * BAT_ENTRY_SIZE,
      (end - start) * BAT_ENTRY_SIZE,
    );
    if (isAllZero(bytes)) v.zero(start, end);
    else if (
      (end - start) % align === 0 &&
      end - start >= 2 * align &&
      equalBytes(bytes.subarray(0, bytes.length - period), bytes.subarray(period))
    )
      v.repeat(start, end);
    else v.other(start, end);
  }
}

/**
 * forEachSpan for scans that look for entries that matter (space owned, a finding): all-zero spans
 * are skipped, and a span of identical chunks is visited in its first chunk only, unless `visit`
 * reports it found something there (then the rest of the span is visited too).
 */
export function visitSpans(
  words: Uint32Array,
  n: number,
  period: number,
  visit: (start: number, end: number) => boolean,
): void {
  forEachSpan(words, n, period, {
    zero: () => undefined,
    repeat: (start, end) => {
      if (visit(start, start + period)) visit(start + period, end);
    },
    other: (start, end) => void visit(start, end),
  });
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
