/** Text formatting for the hex view: offsets, byte cells, the ASCII column, pasted hex. */

export const BYTES_PER_ROW = 16;

const HEX = "0123456789abcdef";
const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, b) => HEX[b >> 4] + HEX[b & 15]);

export function hexByte(b: number): string {
  return BYTE_HEX[b & 255];
}

/** How many hex digits an offset column needs to show every offset below `size`. */
export function offsetDigits(size: number): number {
  let digits = 8;
  while (digits < 14 && size > 16 ** digits) digits += 2;
  return digits;
}

/** An offset as fixed-width hex, grouped by 4 digits with `_` for reading large numbers. */
export function formatOffset(offset: number, digits: number): string {
  const s = offset.toString(16).padStart(digits, "0");
  const parts: string[] = [];
  for (let i = s.length; i > 0; i -= 4) parts.unshift(s.slice(Math.max(0, i - 4), i));
  return parts.join("_");
}

/** Printable ASCII shows as itself; everything else as a middle dot. */
export function asciiChar(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "·";
}

export interface HexRow {
  offset: number;
  offsetText: string;
  /** Two hex digits per byte; "" past the end of the space. */
  cells: string[];
  ascii: string;
}

/**
 * One row of the dump. `bytes` holds the row's data starting at `offset`; cells past
 * `bytes.length` (the end of the space) are blank.
 */
export function formatHexRow(offset: number, bytes: Uint8Array, digits: number, perRow = BYTES_PER_ROW): HexRow {
  const cells: string[] = new Array(perRow);
  let ascii = "";
  for (let i = 0; i < perRow; i++) {
    if (i < bytes.length) {
      cells[i] = BYTE_HEX[bytes[i]];
      ascii += asciiChar(bytes[i]);
    } else {
      cells[i] = "";
      ascii += " ";
    }
  }
  return { offset, offsetText: formatOffset(offset, digits), cells, ascii };
}

/** Number of rows needed for a space of `size` bytes. */
export function rowCount(size: number, perRow = BYTES_PER_ROW): number {
  return Math.ceil(size / perRow);
}

/**
 * Reads pasted text as hex bytes when it looks like hex ("de ad be ef", "deadbeef", "0xde,0xad");
 * returns null when it does not, so the caller can treat it as text instead.
 */
export function parseHexBytes(text: string): Uint8Array | null {
  const cleaned = text
    .trim()
    .replace(/0x/gi, "")
    .replace(/[\s,:;-]+/g, "");
  if (cleaned.length === 0 || cleaned.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(cleaned)) return null;
  const out = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(cleaned.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Text typed or pasted in the ASCII column: Latin-1 code units, anything wider refused. */
export function textBytes(text: string): Uint8Array | null {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) return null;
    out[i] = c;
  }
  return out;
}
