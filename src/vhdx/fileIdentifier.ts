import { ascii, encodeUtf16le, utf16le } from "./bytes";
import { VhdxError } from "./errors";

/** §2.2.1 File Type Identifier: offset 0, 64 KiB, never overwritten after creation. */
export const FILE_IDENTIFIER_OFFSET = 0;
export const FILE_IDENTIFIER_SIZE = 64 * 1024;
export const FILE_IDENTIFIER_SIGNATURE = "vhdxfile";
const CREATOR_OFFSET = 8;
const CREATOR_SIZE = 512;

export interface FileIdentifier {
  signature: string;
  /** UTF-16 creator string, for diagnostics only (§2.2.1: never used to influence behaviour). */
  creator: string;
}

/** Parses the first bytes of the file (at least 520). Throws NOT_VHDX on a wrong signature. */
export function parseFileIdentifier(bytes: Uint8Array): FileIdentifier {
  if (bytes.length < CREATOR_OFFSET + CREATOR_SIZE) {
    throw new VhdxError(
      "NOT_VHDX",
      `file is too short for a file type identifier (${bytes.length} bytes)`,
      "file type identifier",
      0,
    );
  }
  const signature = ascii(bytes, 0, 8);
  if (signature !== FILE_IDENTIFIER_SIGNATURE) {
    throw new VhdxError(
      "NOT_VHDX",
      `not a VHDX file: signature is ${JSON.stringify(signature)}, expected "vhdxfile"`,
      "file type identifier",
      0,
    );
  }
  return { signature, creator: utf16le(bytes, CREATOR_OFFSET, CREATOR_SIZE) };
}

/** Serializes to a 64 KiB block (the structure plus its reserved space, zeroed). */
export function serializeFileIdentifier(id: { creator: string }): Uint8Array {
  const out = new Uint8Array(FILE_IDENTIFIER_SIZE);
  for (let i = 0; i < 8; i++) out[i] = FILE_IDENTIFIER_SIGNATURE.charCodeAt(i);
  const c = encodeUtf16le(id.creator);
  out.set(c.subarray(0, CREATOR_SIZE - 2), CREATOR_OFFSET);
  return out;
}
