/**
 * The BAT picture: one pixel per BAT entry, painted straight from the raw (lo, hi) u32 words into
 * an ImageData's buffer. No per-entry objects: a 64 TiB disk's 2,097,152 entries are one pass.
 * Entry states and the chunk interleaving follow §2.5 (payload entries, then one sector bitmap
 * entry per chunk).
 */

/** Filter bits: bit s for payload state s (0–7), bit 8 + s for sector bitmap state s. */
export const SB_FILTER_SHIFT = 8;
export const ALL_STATES = 0xffff;

/** Packs a colour as the u32 an ImageData holds on a little-endian host (bytes R, G, B, A). */
export function rgba(r: number, g: number, b: number, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export function hexColor(c: number): string {
  const r = c & 255;
  const g = (c >>> 8) & 255;
  const b = (c >>> 16) & 255;
  return "#" + [r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("");
}

export interface BatPalette {
  /** Indexed by payload state 0–7. */
  payload: number[];
  /** Indexed by sector bitmap state 0–7. */
  sectorBitmap: number[];
  /** Entries hidden by the filter. */
  filtered: number;
  /** Cells past the last entry. */
  empty: number;
}

const RESERVED_LIGHT = rgba(214, 40, 40);
export const LIGHT_PALETTE: BatPalette = {
  payload: [
    rgba(226, 229, 234), // NOT_PRESENT
    rgba(190, 160, 230), // UNDEFINED
    rgba(170, 210, 240), // ZERO
    rgba(245, 205, 140), // UNMAPPED
    RESERVED_LIGHT,
    RESERVED_LIGHT,
    rgba(46, 125, 200), // FULLY_PRESENT
    rgba(40, 160, 110), // PARTIALLY_PRESENT
  ],
  sectorBitmap: [
    rgba(120, 120, 120),
    RESERVED_LIGHT,
    RESERVED_LIGHT,
    RESERVED_LIGHT,
    RESERVED_LIGHT,
    RESERVED_LIGHT,
    rgba(30, 30, 30),
    RESERVED_LIGHT,
  ],
  filtered: rgba(246, 247, 249),
  empty: rgba(255, 255, 255, 0),
};

const RESERVED_DARK = rgba(240, 80, 80);
export const DARK_PALETTE: BatPalette = {
  payload: [
    rgba(52, 56, 64),
    rgba(130, 100, 180),
    rgba(60, 110, 150),
    rgba(170, 130, 60),
    RESERVED_DARK,
    RESERVED_DARK,
    rgba(80, 160, 240),
    rgba(70, 190, 130),
  ],
  sectorBitmap: [
    rgba(150, 150, 150),
    RESERVED_DARK,
    RESERVED_DARK,
    RESERVED_DARK,
    RESERVED_DARK,
    RESERVED_DARK,
    rgba(235, 235, 235),
    RESERVED_DARK,
  ],
  filtered: rgba(36, 38, 43),
  empty: rgba(0, 0, 0, 0),
};

/**
 * Paints `entries` BAT entries into `out` (one u32 pixel each, row-major; `out.length` may exceed
 * `entries`, the rest is painted `empty`). `chunkRatio` locates the sector bitmap entries; `filter`
 * is a mask of visible states.
 */
export function paintBat(
  words: Uint32Array,
  entries: number,
  chunkRatio: number,
  palette: BatPalette,
  filter: number,
  out: Uint32Array,
): void {
  const n = Math.min(entries, words.length >>> 1, out.length);
  // Colour lookup per (kind, state) resolved once, so the loop is a load, a mask and a store.
  const payloadLut = new Uint32Array(8);
  const sbLut = new Uint32Array(8);
  for (let s = 0; s < 8; s++) {
    payloadLut[s] = filter & (1 << s) ? palette.payload[s] : palette.filtered;
    sbLut[s] = filter & (1 << (SB_FILTER_SHIFT + s)) ? palette.sectorBitmap[s] : palette.filtered;
  }
  let inChunk = 0;
  for (let i = 0; i < n; i++) {
    const state = words[i << 1] & 7;
    if (inChunk === chunkRatio) {
      out[i] = sbLut[state];
      inChunk = 0;
    } else {
      out[i] = payloadLut[state];
      inChunk++;
    }
  }
  out.fill(palette.empty, n);
}

export interface BatCounts {
  payload: Uint32Array;
  sectorBitmap: Uint32Array;
}

/** Per-state counts of payload and sector bitmap entries, for the legend. */
export function countBatStates(words: Uint32Array, entries: number, chunkRatio: number): BatCounts {
  const payload = new Uint32Array(8);
  const sectorBitmap = new Uint32Array(8);
  const n = Math.min(entries, words.length >>> 1);
  let inChunk = 0;
  for (let i = 0; i < n; i++) {
    const state = words[i << 1] & 7;
    if (inChunk === chunkRatio) {
      sectorBitmap[state]++;
      inChunk = 0;
    } else {
      payload[state]++;
      inChunk++;
    }
  }
  return { payload, sectorBitmap };
}

/**
 * Columns of the BAT picture: about 1.5 times as wide as tall, so the whole BAT fits a window.
 * When chunks (chunkRatio payload entries and their sector bitmap entry) are not too wide, rows
 * hold whole chunks so the sector bitmap entries line up in columns.
 */
export function batColumns(chunkRatio: number, entries: number): number {
  if (entries <= 256) return Math.max(16, Math.ceil(Math.sqrt(entries * 1.5) / 8) * 8);
  const chunk = chunkRatio + 1;
  const ideal = Math.max(64, Math.round(Math.sqrt(entries * 1.5)));
  let cols = chunk <= ideal ? chunk * Math.max(1, Math.round(ideal / chunk)) : Math.ceil(ideal / 64) * 64;
  // Canvases stop at 32,767 pixels a side.
  while (Math.ceil(entries / cols) > MAX_BAT_ROWS) cols *= 2;
  return cols;
}

/** Rows the BAT picture may have (a canvas side is limited to 32,767 pixels). */
export const MAX_BAT_ROWS = 16384;

/** Decoded view of one entry, for the tooltip. */
export interface BatEntryView {
  index: number;
  isSectorBitmap: boolean;
  state: number;
  /** Payload block number (payload entries) or chunk number (sector bitmap entries). */
  block: number;
  fileOffset: number;
  /** Virtual byte range covered: a payload block, or a chunk for a sector bitmap entry. */
  virtualStart: number;
  virtualEnd: number;
}

export function describeBatEntry(
  words: Uint32Array,
  index: number,
  chunkRatio: number,
  blockSize: number,
  virtualSize: number,
): BatEntryView {
  const lo = words[index * 2];
  const hi = words[index * 2 + 1];
  const state = lo & 7;
  // §2.5: FileOffsetMB is bits 20–63.
  const fileOffset = ((lo >>> 20) + hi * 4096) * 1024 * 1024;
  const chunk = Math.floor(index / (chunkRatio + 1));
  const isSectorBitmap = index % (chunkRatio + 1) === chunkRatio;
  if (isSectorBitmap) {
    const start = chunk * chunkRatio * blockSize;
    return {
      index,
      isSectorBitmap,
      state,
      block: chunk,
      fileOffset,
      virtualStart: Math.min(start, virtualSize),
      virtualEnd: Math.min(start + chunkRatio * blockSize, virtualSize),
    };
  }
  const block = index - chunk;
  const start = block * blockSize;
  return {
    index,
    isSectorBitmap,
    state,
    block,
    fileOffset,
    virtualStart: Math.min(start, virtualSize),
    virtualEnd: Math.min(start + blockSize, virtualSize),
  };
}
