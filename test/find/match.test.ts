import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { findIn } from "../../src/find/match";
import { matchesZeros, parseQuery, type FindQuery, type Pattern } from "../../src/find/pattern";

function pattern(q: FindQuery): Pattern {
  const r = parseQuery(q);
  if (!r.ok) throw new Error(r.error);
  return r.pattern;
}

/** The reference: hex tokens (a number or null for ??) compared at every start. */
function naiveHex(buf: Uint8Array, tokens: (number | null)[], lo: number, hi: number, backward: boolean): number {
  const ok = (s: number) => tokens.every((t, i) => t === null || buf[s + i] === t);
  hi = Math.min(hi, buf.length - tokens.length);
  lo = Math.max(0, lo);
  if (backward) {
    for (let s = hi; s >= lo; s--) if (ok(s)) return s;
  } else for (let s = lo; s <= hi; s++) if (ok(s)) return s;
  return -1;
}

const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

/** The reference for ASCII text either case: both sides lower-cased, byte by byte. */
function naiveAsciiFold(buf: Uint8Array, text: string, backward: boolean): number {
  const want = [...text].map((c) => lower(c.charCodeAt(0)));
  const ok = (s: number) => want.every((w, i) => lower(buf[s + i]) === w);
  const last = buf.length - want.length;
  if (backward) {
    for (let s = last; s >= 0; s--) if (ok(s)) return s;
  } else for (let s = 0; s <= last; s++) if (ok(s)) return s;
  return -1;
}

/** The reference for UTF-16LE text either case: code units read from the buffer, ASCII letters lower-cased. */
function naiveUtf16Fold(buf: Uint8Array, text: string, backward: boolean): number {
  const want = [...text].map((c) => lower(c.charCodeAt(0)));
  const unit = (at: number) => lower(buf[at] | (buf[at + 1] << 8));
  const ok = (s: number) => want.every((w, i) => unit(s + 2 * i) === w);
  const last = buf.length - 2 * want.length;
  if (backward) {
    for (let s = last; s >= 0; s--) if (ok(s)) return s;
  } else for (let s = 0; s <= last; s++) if (ok(s)) return s;
  return -1;
}

const hexText = (tokens: (number | null)[]) =>
  tokens.map((t) => (t === null ? "??" : t.toString(16).padStart(2, "0"))).join(" ");

// Small alphabets so that matches happen often.
const smallBytes = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => b.map((x) => x % 4));
const tokensArb = fc.array(fc.option(fc.integer({ min: 0, max: 3 }), { freq: 3 }), { minLength: 1, maxLength: 6 });

describe("parseQuery", () => {
  it("reads hex bytes with spaces, 0x prefixes and ?? wildcards", () => {
    const p = pattern({ encoding: "hex", text: "4D5a ?? 0x00" });
    expect([...p.bytes]).toEqual([0x4d, 0x5a, 0, 0]);
    expect([...p.kinds]).toEqual([1, 1, 0, 1]);
  });
  it("refuses half bytes, non-hex digits, empty patterns and non-ASCII in ASCII", () => {
    expect(parseQuery({ encoding: "hex", text: "4D5" }).ok).toBe(false);
    expect(parseQuery({ encoding: "hex", text: "zz" }).ok).toBe(false);
    expect(parseQuery({ encoding: "hex", text: "  " }).ok).toBe(false);
    expect(parseQuery({ encoding: "ascii", text: "café" }).ok).toBe(false);
  });
  it("encodes text as Node's Buffer does (UTF-8, UTF-16LE)", () => {
    for (const text of ["EFI PART", "café ☃", "𝄞x"]) {
      expect(Buffer.from(pattern({ encoding: "utf8", text }).bytes)).toEqual(Buffer.from(text, "utf8"));
      expect(Buffer.from(pattern({ encoding: "utf16le", text }).bytes)).toEqual(Buffer.from(text, "utf16le"));
    }
  });
  it("knows which patterns match a run of zeros", () => {
    expect(matchesZeros(pattern({ encoding: "hex", text: "00 ?? 00" }))).toBe(true);
    expect(matchesZeros(pattern({ encoding: "hex", text: "00 01" }))).toBe(false);
    expect(matchesZeros(pattern({ encoding: "utf16le", text: "a" }))).toBe(false);
  });
});

describe("findIn against a naive search", () => {
  it("hex patterns with wildcards, forward and backward, in any range of starts", () => {
    fc.assert(
      fc.property(smallBytes, tokensArb, fc.nat(320), fc.nat(320), fc.boolean(), (buf, tokens, x, y, back) => {
        const p = pattern({ encoding: "hex", text: hexText(tokens) });
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        expect(findIn(buf, p, lo, hi, back)).toBe(naiveHex(buf, tokens, lo, hi, back));
      }),
      { numRuns: 400 },
    );
  });

  it("ASCII text either case", () => {
    const letters = fc
      .uint8Array({ maxLength: 200 })
      .map((b) => b.map((x) => [0x41, 0x61, 0x42, 0x62, 0x40, 0x60][x % 6]));
    const text = fc.stringMatching(/^[aAbB@`]{1,4}$/);
    fc.assert(
      fc.property(letters, text, fc.boolean(), (buf, t, back) => {
        const p = pattern({ encoding: "ascii", text: t, ignoreCase: true });
        expect(findIn(buf, p, 0, buf.length, back)).toBe(naiveAsciiFold(buf, t, back));
      }),
      { numRuns: 400 },
    );
  });

  it("UTF-16LE text either case", () => {
    // Code units A, a, B and U+0141 / U+0161 (whose low bytes are 'A' and 'a': they must not fold).
    const units = [0x41, 0x61, 0x42, 0x141, 0x161];
    const hay = fc
      .array(fc.constantFrom(...units), { maxLength: 120 })
      .map((u) => new Uint8Array(Buffer.from(String.fromCharCode(...u), "utf16le")));
    const text = fc
      .array(fc.constantFrom(...units), { minLength: 1, maxLength: 3 })
      .map((u) => String.fromCharCode(...u));
    fc.assert(
      fc.property(hay, text, fc.boolean(), fc.boolean(), (buf, t, back, odd) => {
        // An odd shift too: a match may start at any byte.
        const b = odd ? Uint8Array.from([0x61, ...buf]) : buf;
        const p = pattern({ encoding: "utf16le", text: t, ignoreCase: true });
        expect(findIn(b, p, 0, b.length, back)).toBe(naiveUtf16Fold(b, t, back));
      }),
      { numRuns: 400 },
    );
  });

  it("an all-wildcard pattern matches at the first start of the range", () => {
    const p = pattern({ encoding: "hex", text: "?? ??" });
    expect(findIn(new Uint8Array(10), p, 3, 20)).toBe(3);
    expect(findIn(new Uint8Array(10), p, 3, 20, true)).toBe(8);
  });
});
