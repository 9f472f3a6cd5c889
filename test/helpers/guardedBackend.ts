import { RandomAccess } from "../../src/vhdx/io";

/** Thrown by GuardedBackend on any attempt to change the file: never a VhdxError, so tests see it. */
export class WriteAttempted extends Error {}

const CHUNK = 64 * 1024;

/**
 * A file image as a shared base plus copied 64 KiB chunks: a mutated copy of a multi-MiB seed
 * costs only the chunks it changes.
 */
export class PatchedBytes {
  private readonly chunks = new Map<number, Uint8Array>();

  constructor(
    private readonly base: Uint8Array,
    public length = base.length,
  ) {}

  static of(bytes: Uint8Array): PatchedBytes {
    return new PatchedBytes(bytes);
  }

  /** Copies `length` bytes at `offset` (zeros past the end). */
  get(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const end = Math.min(offset + length, this.length);
    for (let at = offset; at < end;) {
      const c = Math.floor(at / CHUNK);
      const chunkEnd = Math.min((c + 1) * CHUNK, end);
      const src = this.chunks.get(c);
      if (src) out.set(src.subarray(at - c * CHUNK, chunkEnd - c * CHUNK), at - offset);
      else out.set(this.base.subarray(at, chunkEnd), at - offset);
      at = chunkEnd;
    }
    return out;
  }

  /** Writes inside the current length (bytes past it are dropped). */
  set(offset: number, data: Uint8Array): void {
    const end = Math.min(offset + data.length, this.length);
    for (let at = offset; at < end;) {
      const c = Math.floor(at / CHUNK);
      const chunkEnd = Math.min((c + 1) * CHUNK, end);
      let dst = this.chunks.get(c);
      if (!dst) {
        dst = new Uint8Array(CHUNK);
        dst.set(this.base.subarray(c * CHUNK, Math.min((c + 1) * CHUNK, this.base.length)));
        this.chunks.set(c, dst);
      }
      dst.set(data.subarray(at - offset, chunkEnd - offset), at - c * CHUNK);
      at = chunkEnd;
    }
  }

  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  /** The whole image as one array (for failure reports). */
  toBytes(): Uint8Array {
    return this.get(0, this.length);
  }
}

/**
 * A read-only file that refuses every write and records the largest single read, so a test can
 * tell whether work followed the file's size or what the file claimed.
 */
export class GuardedBackend implements RandomAccess {
  readonly readOnly = true;
  maxRead = 0;
  reads = 0;
  private readonly data: PatchedBytes;

  constructor(data: Uint8Array | PatchedBytes) {
    this.data = data instanceof PatchedBytes ? data : PatchedBytes.of(data);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`bad read ${offset}+${length}`);
    }
    this.reads++;
    this.maxRead = Math.max(this.maxRead, length);
    return this.data.get(offset, length);
  }

  async write(): Promise<void> {
    throw new WriteAttempted("write during read-only work");
  }

  async flush(): Promise<void> {
    throw new WriteAttempted("flush during read-only work");
  }

  async truncate(): Promise<void> {
    throw new WriteAttempted("truncate during read-only work");
  }

  async size(): Promise<number> {
    return this.data.length;
  }

  async close(): Promise<void> {}
}
