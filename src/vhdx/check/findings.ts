import { RandomAccess } from "../io";

export type Severity = "error" | "warning" | "info";

/**
 * Stable finding codes, each documented in docs/errors.md. Codes shared with VhdxError mean the
 * same thing in both places.
 */
export type CheckCode =
  | "NOT_VHDX"
  | "FILE_TRUNCATED"
  | "HEADER_SIGNATURE"
  | "HEADER_CHECKSUM"
  | "HEADER_INVALID"
  | "HEADER_RESERVED"
  | "HEADER_SEQUENCE"
  | "UNSUPPORTED_VERSION"
  | "LOG_VERSION"
  | "NO_VALID_HEADER"
  | "REGION_TABLE_SIGNATURE"
  | "REGION_TABLE_CHECKSUM"
  | "REGION_TABLE_INVALID"
  | "REGION_TABLE_MISMATCH"
  | "NO_VALID_REGION_TABLE"
  | "REQUIRED_REGION_UNKNOWN"
  | "REGION_UNKNOWN"
  | "REGION_NOT_REQUIRED"
  | "REGION_MISSING"
  | "REGION_BEYOND_EOF"
  | "REGION_OVERLAP"
  | "METADATA_MISSING"
  | "METADATA_INVALID"
  | "METADATA_OVERLAP"
  | "METADATA_REQUIRED_UNKNOWN"
  | "METADATA_UNKNOWN"
  | "METADATA_RESERVED"
  | "METADATA_FLAGS"
  | "PARENT_LOCATOR_INVALID"
  | "BAT_TOO_SMALL"
  | "BAT_TRUNCATED"
  | "BAT_ENTRY_BEYOND_EOF"
  | "BAT_OFFSET_DUPLICATE"
  | "BAT_OFFSET_INVALID"
  | "BAT_RETAINED_OFFSET_INVALID"
  | "BAT_STATE_INVALID"
  | "BAT_RESERVED"
  | "LOG_NEEDS_REPLAY"
  | "LOG_INVALID"
  | "LOG_NO_VALID_SEQUENCE"
  | "LOG_FILE_TRUNCATED"
  | "LOG_BEYOND_EOF"
  | "SPACE_UNREFERENCED"
  | "CHECK_INCOMPLETE"
  | "FINDINGS_TRUNCATED";

export interface Finding {
  severity: Severity;
  code: CheckCode;
  /** For a person: what is wrong, with the numbers that show it. */
  message: string;
  /** The structure the finding is about, named as the spec names it. */
  structure: string;
  /** File offset of the offending bytes. */
  offset: number;
  /** Length of the offending range in bytes (0 when it is a single point). */
  length: number;
}

/** At most this many findings of one code are listed; the rest are counted in one summary finding. */
export const MAX_FINDINGS_PER_CODE = 50;

/**
 * Shared state of one check run: the file, its size, and the findings so far. Every read goes
 * through `read`, which never asks for more than the file holds, so a structure that claims
 * gigabytes costs only what the file really has.
 */
export class CheckContext {
  private readonly list: Finding[] = [];
  private readonly perCode = new Map<CheckCode, { listed: number; dropped: number; severity: Severity }>();

  /** Bytes at or past this offset are known to read as zeros (≤ fileSize; below it after an in-memory replay grew the file). */
  dataEnd: number;

  constructor(
    public io: RandomAccess,
    public fileSize: number,
  ) {
    this.dataEnd = fileSize;
  }

  /** Continues the check on the file as a replayed log leaves it (an in-memory overlay). */
  useReplayed(io: RandomAccess, fileSize: number, dataEnd: number): void {
    this.io = io;
    this.fileSize = fileSize;
    this.dataEnd = Math.min(dataEnd, fileSize);
  }

  add(severity: Severity, code: CheckCode, message: string, structure: string, offset: number, length = 0): void {
    const c = this.perCode.get(code) ?? { listed: 0, dropped: 0, severity };
    this.perCode.set(code, c);
    if (c.listed >= MAX_FINDINGS_PER_CODE) {
      c.dropped++;
      if (severity === "error") c.severity = "error";
      return;
    }
    c.listed++;
    this.list.push({ severity, code, message, structure, offset, length });
  }

  has(code: CheckCode): boolean {
    return this.perCode.has(code);
  }

  /** The findings, plus one FINDINGS_TRUNCATED note per code that had more than could be listed. */
  findings(): Finding[] {
    const out = this.list.slice();
    for (const [code, c] of this.perCode) {
      if (c.dropped > 0) {
        out.push({
          severity: c.severity,
          code: "FINDINGS_TRUNCATED",
          message: `${c.dropped} more ${code} finding${c.dropped === 1 ? "" : "s"} not listed`,
          structure: "check",
          offset: 0,
          length: 0,
        });
      }
    }
    return out;
  }

  /**
   * Reads `length` bytes at `offset`, never past the end of the file's data (the rest reads as
   * zeros). Callers bound `length` by what they need and by `dataEnd`, never by a claim.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const inFile = Math.max(0, Math.min(length, this.dataEnd - offset));
    if (inFile === length) return this.io.read(offset, length);
    const out = new Uint8Array(length);
    if (inFile > 0) out.set(await this.io.read(offset, inFile));
    return out;
  }
}
