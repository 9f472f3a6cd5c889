import { encodeUtf16le, utf16le, view } from "./bytes";
import { VhdxError } from "./errors";
import { Guid, readGuid, writeGuid } from "./guid";

/** §2.6.2.6.3: the only locator type the spec defines. */
export const VHDX_PARENT_LOCATOR_TYPE: Guid = "b04aefb7-d19e-4a81-b789-25b8e9445913";
const HEADER_LEN = 20;
const ENTRY_LEN = 12;

export interface ParentLocatorEntry {
  key: string;
  value: string;
  keyOffset: number;
  valueOffset: number;
  keyLength: number;
  valueLength: number;
}

export interface ParentLocator {
  locatorType: Guid;
  keyValueCount: number;
  entries: ParentLocatorEntry[];
}

/** §2.6.2.6.1–2.6.2.6.2: header, then 12-byte entries pointing at UTF-16LE keys and values. */
export function parseParentLocator(item: Uint8Array, fileOffset: number): ParentLocator {
  const where = "parent locator";
  const fail = (msg: string, at = 0): never => {
    throw new VhdxError("PARENT_LOCATOR_INVALID", msg, where, fileOffset + at);
  };
  if (item.length < HEADER_LEN) fail(`parent locator is ${item.length} bytes, shorter than its 20-byte header`);
  const dv = view(item);
  const locatorType = readGuid(item, 0);
  const keyValueCount = dv.getUint16(18, true);
  if (HEADER_LEN + keyValueCount * ENTRY_LEN > item.length) {
    fail(`parent locator claims ${keyValueCount} entries, more than its ${item.length} bytes hold`, 18);
  }
  const entries: ParentLocatorEntry[] = [];
  const keys = new Set<string>();
  for (let i = 0; i < keyValueCount; i++) {
    const at = HEADER_LEN + i * ENTRY_LEN;
    const keyOffset = dv.getUint32(at, true);
    const valueOffset = dv.getUint32(at + 4, true);
    const keyLength = dv.getUint16(at + 8, true);
    const valueLength = dv.getUint16(at + 10, true);
    if (keyOffset === 0 || valueOffset === 0 || keyLength === 0 || valueLength === 0) {
      fail(`parent locator entry ${i}: offsets and lengths must be greater than zero`, at);
    }
    if (keyOffset + keyLength > item.length || valueOffset + valueLength > item.length) {
      fail(`parent locator entry ${i}: key or value lies past the end of the item`, at);
    }
    const key = utf16le(item, keyOffset, keyLength);
    const value = utf16le(item, valueOffset, valueLength);
    if (keys.has(key)) fail(`parent locator key ${JSON.stringify(key)} appears twice`, at);
    keys.add(key);
    entries.push({ key, value, keyOffset, valueOffset, keyLength, valueLength });
  }
  return { locatorType, keyValueCount, entries };
}

/** Builds a parent locator item from key/value pairs (keys and values UTF-16LE, no NULs). */
export function serializeParentLocator(locatorType: Guid, pairs: readonly [string, string][]): Uint8Array {
  const strings: Uint8Array[] = [];
  let cursor = HEADER_LEN + pairs.length * ENTRY_LEN;
  const table: number[][] = [];
  for (const [k, v] of pairs) {
    const kb = encodeUtf16le(k);
    const vb = encodeUtf16le(v);
    table.push([cursor, cursor + kb.length, kb.length, vb.length]);
    strings.push(kb, vb);
    cursor += kb.length + vb.length;
  }
  const out = new Uint8Array(cursor);
  const dv = view(out);
  writeGuid(out, 0, locatorType);
  dv.setUint16(18, pairs.length, true);
  table.forEach(([ko, vo, kl, vl], i) => {
    const at = HEADER_LEN + i * ENTRY_LEN;
    dv.setUint32(at, ko, true);
    dv.setUint32(at + 4, vo, true);
    dv.setUint16(at + 8, kl, true);
    dv.setUint16(at + 10, vl, true);
  });
  let p = HEADER_LEN + pairs.length * ENTRY_LEN;
  for (const s of strings) {
    out.set(s, p);
    p += s.length;
  }
  return out;
}

export function locatorValue(pl: ParentLocator, key: string): string | undefined {
  return pl.entries.find((e) => e.key === key)?.value;
}
