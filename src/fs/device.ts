import { FsError } from "./errors";
import type { BlockDevice } from "./types";

/** A window [start, start + size) of another device: a partition. */
export class SliceDevice implements BlockDevice {
  constructor(
    private readonly base: BlockDevice,
    readonly start: number,
    readonly size: number,
  ) {
    if (start < 0 || size < 0 || start + size > base.size) {
      throw new FsError(
        "FS_OUT_OF_RANGE",
        `a partition of ${size} bytes at ${start} runs past the end of the disk (${base.size} bytes)`,
        "partition",
        start,
      );
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new FsError(
        "FS_OUT_OF_RANGE",
        `read of ${length} bytes at ${offset} is past the end of the volume (${this.size} bytes)`,
        "volume",
        offset,
      );
    }
    return this.base.read(this.start + offset, length);
  }
}

/** A device over bytes in memory (tests, and small structures read whole). */
export class MemoryDevice implements BlockDevice {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new FsError(
        "FS_OUT_OF_RANGE",
        `read of ${length} bytes at ${offset} is past the end (${this.bytes.length} bytes)`,
        "device",
        offset,
      );
    }
    return this.bytes.slice(offset, offset + length);
  }
}
