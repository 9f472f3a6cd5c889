/**
 * The data inspector's values: the bytes at the hex cursor read as integers, floats, a GUID (in
 * VHDX's mixed-endian layout, src/vhdx/guid.ts), times, characters and bits, and each value typed
 * back into the bytes it stands for. Pure: bytes in, text out, and text in, bytes (or a reason) out.
 */
import { normalizeGuid, readGuid, writeGuid } from "../../vhdx/guid";

export type FieldId =
  | "u8"
  | "i8"
  | "u16"
  | "i16"
  | "u32"
  | "i32"
  | "u64"
  | "i64"
  | "f32"
  | "f64"
  | "guid"
  | "filetime"
  | "unix32"
  | "utf8"
  | "utf16"
  | "binary";

export interface FieldSpec {
  id: FieldId;
  label: string;
  /** Bytes the value occupies; for characters, the most it may take. */
  size: number;
  /** True when the byte order applies (GUID and FILETIME have theirs fixed by their formats). */
  endian: boolean;
}

export const FIELDS: readonly FieldSpec[] = [
  { id: "u8", label: "u8", size: 1, endian: false },
  { id: "i8", label: "i8", size: 1, endian: false },
  { id: "u16", label: "u16", size: 2, endian: true },
  { id: "i16", label: "i16", size: 2, endian: true },
  { id: "u32", label: "u32", size: 4, endian: true },
  { id: "i32", label: "i32", size: 4, endian: true },
  { id: "u64", label: "u64", size: 8, endian: true },
  { id: "i64", label: "i64", size: 8, endian: true },
  { id: "f32", label: "float32", size: 4, endian: true },
  { id: "f64", label: "float64", size: 8, endian: true },
  { id: "guid", label: "GUID", size: 16, endian: false },
  { id: "filetime", label: "FILETIME", size: 8, endian: false },
  { id: "unix32", label: "Unix time (u32)", size: 4, endian: true },
  { id: "utf8", label: "UTF-8", size: 4, endian: false },
  { id: "utf16", label: "UTF-16", size: 4, endian: true },
  { id: "binary", label: "binary", size: 1, endian: false },
];

/** 100-nanosecond intervals from 1601-01-01 to 1970-01-01 (FILETIME's epoch to Unix's). */
export const FILETIME_UNIX_EPOCH = 116444736000000000n;

const INT_BITS: Partial<Record<FieldId, { bits: number; signed: boolean }>> = {
  u8: { bits: 8, signed: false },
  i8: { bits: 8, signed: true },
  u16: { bits: 16, signed: false },
  i16: { bits: 16, signed: true },
  u32: { bits: 32, signed: false },
  i32: { bits: 32, signed: true },
  u64: { bits: 64, signed: false },
  i64: { bits: 64, signed: true },
};

function readUint(b: Uint8Array, bytes: number, little: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(b[little ? bytes - 1 - i : i]);
  return v;
}

function writeUint(v: bigint, bytes: number, little: boolean): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    out[little ? i : bytes - 1 - i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** ISO 8601 in UTC, with the sub-second digits the value has (up to 7 for FILETIME's 100 ns). */
function isoFrom100ns(ticksSinceUnix: bigint): string | null {
  const ms = ticksSinceUnix / 10000n - (ticksSinceUnix % 10000n < 0n ? 1n : 0n);
  const rest = ticksSinceUnix - ms * 10000n; // 0–9999 hundred-nanoseconds past the millisecond
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return null;
  const base = d.toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ (or ±yyyyyy for far years)
  const frac = (base.slice(-4, -1) + rest.toString().padStart(4, "0")).replace(/0+$/, "");
  return `${base.slice(0, -5)}${frac ? `.${frac}` : ""}Z`;
}

/** Parses ISO 8601 (UTC; "Z" or no zone) into 100 ns ticks since the Unix epoch. */
function parseIsoTo100ns(text: string): bigint | string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?)?\s*(?:Z|UTC)?$/i.exec(text.trim());
  if (!m) return "Enter a UTC time as 2024-05-01T12:30:00Z (up to 7 fractional digits)";
  const ms = Date.parse(`${m[1]}T${m[2] ?? "00:00:00"}${m[2]?.length === 5 ? ":00" : ""}Z`);
  if (Number.isNaN(ms)) return `"${text.trim()}" is not a date`;
  return BigInt(ms) * 10000n + BigInt((m[3] ?? "").padEnd(7, "0"));
}

/** The character the bytes start with, or null when they do not start with a valid UTF-8 sequence. */
function utf8Char(b: Uint8Array): { text: string; size: number } | null {
  const b0 = b[0];
  const size =
    b0 < 0x80 ? 1 : b0 >= 0xc2 && b0 < 0xe0 ? 2 : b0 >= 0xe0 && b0 < 0xf0 ? 3 : b0 >= 0xf0 && b0 < 0xf5 ? 4 : 0;
  if (size === 0 || b.length < size) return null;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(0, size));
    return { text, size };
  } catch {
    return null;
  }
}

function utf16Char(b: Uint8Array, little: boolean): { text: string; size: number } | null {
  if (b.length < 2) return null;
  const unit = (i: number) => (little ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1]);
  const u0 = unit(0);
  if (u0 >= 0xdc00 && u0 < 0xe000) return null; // a lone low surrogate
  if (u0 < 0xd800 || u0 >= 0xe000) return { text: String.fromCharCode(u0), size: 2 };
  if (b.length < 4) return null;
  const u1 = unit(2);
  if (u1 < 0xdc00 || u1 >= 0xe000) return null;
  return { text: String.fromCharCode(u0, u1), size: 4 };
}

/** The fewest digits that read back as the same float32 (String() would show float64 noise). */
function shortestFloat32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p <= 9; p++) {
    const t = Number(v.toPrecision(p));
    if (Math.fround(t) === v) return String(t);
  }
  return String(v);
}

/** A character shown so that controls and spaces are visible. */
function showChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const name = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0x20 ? name : `${c} (${name})`;
}

/**
 * The field's value for the bytes at the cursor (`bytes` starts there and may be shorter than 16
 * near the end), or null when too few bytes remain or they do not form one (an invalid UTF-8 sequence).
 */
export function decodeField(id: FieldId, bytes: Uint8Array, little: boolean): string | null {
  const spec = FIELDS.find((f) => f.id === id) as FieldSpec;
  const int = INT_BITS[id];
  if (id !== "utf8" && id !== "utf16" && bytes.length < spec.size) return null;
  if (bytes.length === 0) return null;
  if (int) {
    const n = int.bits / 8;
    const v = readUint(bytes, n, little || n === 1);
    return (int.signed ? BigInt.asIntN(int.bits, v) : v).toString();
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  switch (id) {
    case "f32":
      return shortestFloat32(dv.getFloat32(0, little));
    case "f64":
      return String(dv.getFloat64(0, little));
    case "guid":
      return readGuid(bytes, 0);
    case "filetime":
      // FILETIME is little-endian in every structure that holds one.
      return isoFrom100ns(readUint(bytes, 8, true) - FILETIME_UNIX_EPOCH);
    case "unix32":
      return isoFrom100ns(readUint(bytes, 4, little) * 10000000n);
    case "utf8": {
      const c = utf8Char(bytes);
      return c && showChar(c.text);
    }
    case "utf16": {
      const c = utf16Char(bytes, little);
      return c && showChar(c.text);
    }
    case "binary":
      return bytes[0].toString(2).padStart(8, "0");
  }
  return null;
}

export type Encoded = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

const fail = (error: string): Encoded => ({ ok: false, error });

function parseInteger(text: string): bigint | null {
  const t = text.trim().replace(/_/g, "");
  const m = /^([+-]?)(0x[0-9a-f]+|0b[01]+|\d+)$/i.exec(t);
  if (!m) return null;
  const v = BigInt(m[2]);
  return m[1] === "-" ? -v : v;
}

/** The bytes `text` stands for as field `id`, or why it cannot be written. */
export function encodeField(id: FieldId, text: string, little: boolean): Encoded {
  const int = INT_BITS[id];
  const t = text.trim();
  if (int) {
    const v = parseInteger(t);
    if (v === null) return fail(`Enter a whole number (decimal, 0x… or 0b…) for ${id}`);
    const min = int.signed ? -(1n << BigInt(int.bits - 1)) : 0n;
    const max = int.signed ? (1n << BigInt(int.bits - 1)) - 1n : (1n << BigInt(int.bits)) - 1n;
    if (v < min || v > max) return fail(`${id} holds ${min} to ${max}`);
    return { ok: true, bytes: writeUint(BigInt.asUintN(int.bits, v), int.bits / 8, little || int.bits === 8) };
  }
  switch (id) {
    case "f32":
    case "f64": {
      const v = /^[+-]?(inf(inity)?)$/i.test(t) ? (t.startsWith("-") ? -Infinity : Infinity) : Number(t);
      if (t === "" || (Number.isNaN(v) && !/^nan$/i.test(t))) return fail("Enter a number (or NaN, Infinity)");
      const out = new Uint8Array(id === "f32" ? 4 : 8);
      const dv = new DataView(out.buffer);
      if (id === "f32") dv.setFloat32(0, v, little);
      else dv.setFloat64(0, v, little);
      return { ok: true, bytes: out };
    }
    case "guid": {
      const out = new Uint8Array(16);
      try {
        writeGuid(out, 0, normalizeGuid(t));
      } catch {
        return fail("Enter a GUID as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
      }
      return { ok: true, bytes: out };
    }
    case "filetime": {
      const ticks = parseIsoTo100ns(t);
      if (typeof ticks === "string") return fail(ticks);
      const v = ticks + FILETIME_UNIX_EPOCH;
      if (v < 0n || v >= 1n << 64n) return fail("FILETIME holds 1601-01-01 onwards");
      return { ok: true, bytes: writeUint(v, 8, true) };
    }
    case "unix32": {
      const ticks = parseIsoTo100ns(t);
      if (typeof ticks === "string") return fail(ticks);
      if (ticks % 10000000n !== 0n) return fail("Unix time counts whole seconds");
      const v = ticks / 10000000n;
      if (v < 0n || v > 0xffffffffn) return fail("a u32 Unix time holds 1970-01-01 to 2106-02-07");
      return { ok: true, bytes: writeUint(v, 4, little) };
    }
    case "utf8":
    case "utf16": {
      const chars = [...t];
      if (chars.length !== 1) return fail("Enter one character");
      if (id === "utf8") return { ok: true, bytes: new TextEncoder().encode(chars[0]) };
      const out = new Uint8Array(chars[0].length * 2);
      for (let i = 0; i < chars[0].length; i++) {
        const u = chars[0].charCodeAt(i);
        out[i * 2 + (little ? 0 : 1)] = u & 0xff;
        out[i * 2 + (little ? 1 : 0)] = u >> 8;
      }
      return { ok: true, bytes: out };
    }
    case "binary": {
      if (!/^[01]{1,8}$/.test(t.replace(/[\s_]/g, ""))) return fail("Enter up to 8 binary digits");
      return { ok: true, bytes: Uint8Array.of(parseInt(t.replace(/[\s_]/g, ""), 2)) };
    }
  }
  return fail(`${id} cannot be written`);
}
