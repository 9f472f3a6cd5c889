import type { RandomAccess } from "../../vhdx/io";
import { VhdxError } from "../../vhdx/errors";
import { readBlobRange } from "./blobRange";
import { ChunkCache } from "./chunkCache";
import { SequentialReadAhead } from "./readAhead";
import { IoCounters } from "./stats";

/**
 * Read-only storage over a File or Blob (file input, drag and drop, a picked handle's getFile(),
 * or browsers without File System Access). Every read is a lazy slice, so opening a 100 GiB
 * image touches only the structures the engine asks for.
 */
export class BlobBackend implements RandomAccess {
  readonly readOnly = true;
  readonly stats = new IoCounters();
  private readonly blob: Blob;
  private readonly cache: ChunkCache | null;
  private readonly what: string;
  /** Below the chunk cache: long sequential reads (conversion, search, hashing) come in large windows. */
  readonly readAhead: SequentialReadAhead;

  constructor(blob: Blob, opts: { cache?: ChunkCache | null; name?: string; readAhead?: SequentialReadAhead } = {}) {
    this.blob = blob;
    this.readAhead = opts.readAhead ?? new SequentialReadAhead();
    this.cache = opts.cache ?? null;
    this.what = opts.name ?? (blob instanceof File ? blob.name : "blob");
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.what);
    const raw = (o: number, l: number): Promise<Uint8Array> => this.readAhead.read(this.blob, o, l, this.fetch);
    return this.cache ? this.cache.read(offset, length, raw) : raw(offset, length);
  }

  /** Long reads (a conversion's pieces) land in the caller's buffer straight from the read-ahead. */
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    checkRange(offset, target.length, this.what);
    if (this.cache && target.length <= this.cache.bypassThreshold) target.set(await this.read(offset, target.length));
    else await this.readAhead.readInto(this.blob, offset, target, this.fetch);
  }

  private readonly fetch = (o: number, l: number): Promise<Uint8Array> => {
    this.stats.countRead(Math.max(0, Math.min(this.blob.size, o + l) - o));
    return readBlobRange(this.blob, o, l, this.what);
  };

  async write(offset: number, _data: Uint8Array): Promise<void> {
    throw readOnlyError(this.what, offset);
  }

  async flush(): Promise<void> {
    // Nothing was written, so there is nothing to make durable.
  }

  async size(): Promise<number> {
    return this.blob.size;
  }

  async truncate(size: number): Promise<void> {
    throw readOnlyError(this.what, size);
  }

  async close(): Promise<void> {
    this.cache?.clear();
    this.readAhead.drop();
  }
}

export function readOnlyError(what: string, offset: number): VhdxError {
  return new VhdxError("READ_ONLY", `${what} is open read-only`, what, offset);
}

export function checkRange(offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new VhdxError(
      "OUT_OF_RANGE",
      `Bad byte range: offset ${offset}, length ${length}`,
      what,
      offset >= 0 ? offset : undefined,
    );
  }
}
