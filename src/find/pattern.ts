/**
 * What Find looks for, as bytes: a hex pattern with `??` wildcards, or text encoded as ASCII,
 * UTF-8 or UTF-16LE, optionally case-insensitive. Pure: the hex view parses a query here to say
 * what is wrong with it before anything is sent, and the engine worker parses it again to search.
 */

export type FindEncoding = "hex" | "ascii" | "utf8" | "utf16le";

export interface FindQuery {
  encoding: FindEncoding;
  text: string;
  /** Text only: ASCII letters match either case (A–Z and a–z; other letters match as typed). */
  ignoreCase?: boolean;
}

/** How one byte of a pattern compares. */
export const BYTE_ANY = 0;
export const BYTE_EXACT = 1;
/** An ASCII letter either case: the pattern holds its lower case. */
export const BYTE_FOLD = 2;

export interface Pattern {
  /** The bytes to find; for BYTE_FOLD positions the lower-case letter, for BYTE_ANY 0. */
  bytes: Uint8Array;
  /** BYTE_ANY, BYTE_EXACT or BYTE_FOLD for each position. */
  kinds: Uint8Array;
}

/** Longer patterns are refused: the search keeps this many bytes of overlap between chunks. */
export const MAX_PATTERN = 4096;

export type ParseResult = { ok: true; pattern: Pattern } | { ok: false; error: string };

const isLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** `4D 5A ?? 00`, `4d5a??00`, `0x4D 0x5A`: two hex digits or `??` per byte, spaces anywhere between bytes. */
function parseHex(text: string): ParseResult {
  const bytes: number[] = [];
  const kinds: number[] = [];
  const tokens = text
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  for (let tok of tokens) {
    if (/^0x/i.test(tok)) tok = tok.slice(2);
    if (tok.length % 2 !== 0) return { ok: false, error: `"${tok}" is not whole bytes: two hex digits or ?? per byte` };
    for (let i = 0; i < tok.length; i += 2) {
      const pair = tok.slice(i, i + 2);
      if (pair === "??") {
        bytes.push(0);
        kinds.push(BYTE_ANY);
      } else if (/^[0-9a-f]{2}$/i.test(pair)) {
        bytes.push(parseInt(pair, 16));
        kinds.push(BYTE_EXACT);
      } else return { ok: false, error: `"${pair}" is not a hex byte or ??` };
    }
  }
  return finish(bytes, kinds);
}

function parseText(q: FindQuery): ParseResult {
  const units: number[] = [];
  // One entry per code unit: its bytes, and whether it is an ASCII letter to fold.
  const out: { bytes: number[]; letter: boolean }[] = [];
  if (q.encoding === "ascii") {
    for (const ch of q.text) {
      const c = ch.codePointAt(0)!;
      if (c > 0x7f) return { ok: false, error: `"${ch}" is not ASCII; choose UTF-8 or UTF-16LE` };
      out.push({ bytes: [c], letter: isLetter(c) });
    }
  } else if (q.encoding === "utf8") {
    for (const ch of q.text) {
      const c = ch.codePointAt(0)!;
      out.push({ bytes: [...new TextEncoder().encode(ch)], letter: isLetter(c) });
    }
  } else {
    for (let i = 0; i < q.text.length; i++) units.push(q.text.charCodeAt(i));
    for (const u of units) out.push({ bytes: [u & 0xff, u >> 8], letter: isLetter(u) });
  }
  const bytes: number[] = [];
  const kinds: number[] = [];
  for (const o of out) {
    o.bytes.forEach((b, i) => {
      // Only the letter's own byte folds (the high byte of a UTF-16LE letter is zero).
      const fold = !!q.ignoreCase && o.letter && i === 0;
      bytes.push(fold ? b | 0x20 : b);
      kinds.push(fold ? BYTE_FOLD : BYTE_EXACT);
    });
  }
  return finish(bytes, kinds);
}

function finish(bytes: number[], kinds: number[]): ParseResult {
  if (bytes.length === 0) return { ok: false, error: "Nothing to find: type a hex pattern or text" };
  if (bytes.length > MAX_PATTERN) return { ok: false, error: `Patterns are limited to ${MAX_PATTERN} bytes` };
  return { ok: true, pattern: { bytes: Uint8Array.from(bytes), kinds: Uint8Array.from(kinds) } };
}

export function parseQuery(q: FindQuery): ParseResult {
  return q.encoding === "hex" ? parseHex(q.text) : parseText(q);
}

/** True when a run of zero bytes as long as the pattern matches it: every fixed byte is 0x00. */
export function matchesZeros(p: Pattern): boolean {
  for (let i = 0; i < p.bytes.length; i++) if (p.kinds[i] !== BYTE_ANY && p.bytes[i] !== 0) return false;
  return true;
}

/** Does `p` match `buf` at `at` (the whole pattern inside `buf`)? */
export function matchesAt(buf: Uint8Array, at: number, p: Pattern): boolean {
  const n = p.bytes.length;
  if (at < 0 || at + n > buf.length) return false;
  for (let i = 0; i < n; i++) {
    const k = p.kinds[i];
    if (k === BYTE_EXACT) {
      if (buf[at + i] !== p.bytes[i]) return false;
    } else if (k === BYTE_FOLD && (buf[at + i] | 0x20) !== p.bytes[i]) return false;
  }
  return true;
}
