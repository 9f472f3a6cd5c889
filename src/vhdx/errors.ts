/** Stable error codes. Documented in docs/errors.md; never renamed once published. */
export type VhdxErrorCode =
  | "NOT_VHDX"
  | "NO_VALID_HEADER"
  | "HEADER_CHECKSUM"
  | "HEADER_INVALID"
  | "UNSUPPORTED_VERSION"
  | "REGION_TABLE_CHECKSUM"
  | "REGION_TABLE_INVALID"
  | "REGION_OVERLAP"
  | "REQUIRED_REGION_UNKNOWN"
  | "REGION_MISSING"
  | "METADATA_MISSING"
  | "METADATA_INVALID"
  | "METADATA_REQUIRED_UNKNOWN"
  | "METADATA_REGION_FULL"
  | "PARENT_LOCATOR_INVALID"
  | "BAT_TOO_SMALL"
  | "BAT_ENTRY_BEYOND_EOF"
  | "BAT_OFFSET_DUPLICATE"
  | "BAT_STATE_INVALID"
  | "LOG_NEEDS_REPLAY"
  | "LOG_INVALID"
  | "LOG_FILE_TRUNCATED"
  | "LOG_FULL"
  | "OUT_OF_RANGE"
  | "READ_ONLY"
  | "PARENT_NOT_FOUND"
  | "PARENT_MISMATCH"
  | "CHAIN_INVALID"
  | "INVALID_ARGUMENT"
  | "PATCH_INVALID"
  | "CANCELLED"
  | "IO_ERROR"
  | "FILE_EXISTS"
  | "FILE_IN_USE"
  | "FILE_LOCKED"
  | "NOT_VHD"
  | "VHD_FOOTER_CHECKSUM"
  | "VHD_FOOTER_INVALID"
  | "VHD_HEADER_CHECKSUM"
  | "VHD_HEADER_INVALID"
  | "VHD_BAT_INVALID"
  | "VHD_TOO_LARGE"
  | "RESIZE_INVALID_SIZE"
  | "RESIZE_DATA_PAST_END"
  | "ORIGINAL_CHANGED";

/**
 * The engine's one error type: what went wrong, in which structure, at which file offset.
 * `message` is for a person; `code` is for programs.
 */
export class VhdxError extends Error {
  readonly code: VhdxErrorCode;
  readonly structure: string;
  readonly offset: number | undefined;

  constructor(code: VhdxErrorCode, message: string, structure: string, offset?: number) {
    super(message);
    this.name = "VhdxError";
    this.code = code;
    this.structure = structure;
    this.offset = offset;
  }

  /** "<message> (<structure> at offset 0x…)" — the form the CLI prints. */
  describe(): string {
    const where = this.offset === undefined ? this.structure : `${this.structure} at offset ${hex(this.offset)}`;
    return `${this.message} (${where})`;
  }
}

/** 0x-prefixed lowercase hex with `_` every four digits for readability of large offsets. */
export function hex(n: number | bigint): string {
  const s = n.toString(16);
  if (s.length <= 4) return "0x" + s;
  const parts: string[] = [];
  for (let i = s.length; i > 0; i -= 4) parts.unshift(s.slice(Math.max(0, i - 4), i));
  return "0x" + parts.join("_");
}
