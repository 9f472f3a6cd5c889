/** Stable error codes of the file-system layer. Documented in docs/errors.md. */
export type FsErrorCode =
  | "FS_UNKNOWN"
  | "FS_CORRUPT"
  | "FS_UNSUPPORTED"
  | "FS_NOT_FOUND"
  | "FS_NOT_A_DIRECTORY"
  | "FS_NOT_A_FILE"
  | "FS_OUT_OF_RANGE"
  | "FS_ENCRYPTED"
  | "PARTITION_TABLE_INVALID"
  | "PARTITION_NOT_FOUND"
  | "PARTITION_AMBIGUOUS";

/**
 * The file-system layer's one error type, shaped like the engine's: a stable `code`, the
 * `structure` as the format names it, and the byte `offset` on the device it was read from.
 */
export class FsError extends Error {
  readonly code: FsErrorCode;
  readonly structure: string;
  readonly offset: number | undefined;

  constructor(code: FsErrorCode, message: string, structure: string, offset?: number) {
    super(message);
    this.name = "FsError";
    this.code = code;
    this.structure = structure;
    this.offset = offset;
  }

  describe(): string {
    const where =
      this.offset === undefined ? this.structure : `${this.structure} at offset 0x${this.offset.toString(16)}`;
    return `${this.message} (${where})`;
  }
}
