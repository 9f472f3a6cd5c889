import { v4 as uuidv4 } from "uuid";

/**
 * GUIDs are kept in their canonical text form ("8b7ca206-4790-4b9a-b8fe-575f050f886e", lowercase)
 * and stored on disk in the mixed-endian layout: Data1 (u32), Data2 (u16) and Data3 (u16)
 * little-endian, then Data4's eight bytes as they are.
 */
export type Guid = string;

export const ZERO_GUID: Guid = "00000000-0000-0000-0000-000000000000";

const ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

export function readGuid(bytes: Uint8Array, offset: number): Guid {
  let s = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += "-";
    s += bytes[offset + ORDER[i]].toString(16).padStart(2, "0");
  }
  return s;
}

export function writeGuid(bytes: Uint8Array, offset: number, guid: Guid): void {
  const h = normalizeGuid(guid).replace(/-/g, "");
  for (let i = 0; i < 16; i++) bytes[offset + ORDER[i]] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
}

/** Accepts upper or lower case, with or without braces; returns the canonical lowercase form. */
export function normalizeGuid(text: string): Guid {
  const m = /^\{?([0-9a-fA-F]{8})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{12})\}?$/.exec(
    text.trim(),
  );
  if (!m) throw new Error(`not a GUID: ${JSON.stringify(text)}`);
  return m.slice(1).join("-").toLowerCase();
}

export function isGuid(text: string): boolean {
  try {
    normalizeGuid(text);
    return true;
  } catch {
    return false;
  }
}

/** A fresh random (version 4) GUID. */
export function newGuid(): Guid {
  return uuidv4();
}

export function isZeroGuid(g: Guid): boolean {
  return g === ZERO_GUID;
}
