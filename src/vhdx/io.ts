/**
 * The engine's only door to storage: a small async random-access interface.
 * Backends: in-memory (tests), Node fs (src/node), browser File/OPFS/writable (src/worker).
 * The engine never imports a backend; callers hand one in.
 */
export interface RandomAccess {
  /** Reads exactly `length` bytes at `offset`; bytes past the end of the storage read as zeros. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: reads exactly `target.length` bytes at `offset` into `target` (past the end: zeros).
   * Streaming callers use it to reuse their buffers instead of allocating one per piece.
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  /**
   * Optional: ranges known to read as zeros without reading them (a sparse file's holes), sorted and
   * not overlapping, as of the call: a write or truncate afterwards may end one. A hint a reader may
   * use to skip reads; what is not listed is read. A backend not sure of a range leaves it out.
   */
  knownZeroRanges?(): Promise<readonly { start: number; end: number }[]>;
  /** Writes all of `data` at `offset`, extending the storage if needed. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /**
   * Optional: as writing `length` zero bytes at `offset`, for a backend that can record that
   * without the bytes (a log's zero descriptors may cover far more than memory holds).
   */
  writeZeros?(offset: number, length: number): Promise<void>;
  /** Makes every completed write durable (fsync or the backend's equivalent). */
  flush(): Promise<void>;
  /** Current size in bytes. */
  size(): Promise<number>;
  /** Sets the size: grows with zeros or truncates. */
  truncate(size: number): Promise<void>;
  /** True when write/flush/truncate are refused. */
  readonly readOnly: boolean;
  /** Releases the underlying handle. */
  close(): Promise<void>;
}

/**
 * `length` bytes at `offset`, in a buffer of the caller's own when the backend can read into one
 * (`owned`: nothing else holds it, so a Bat can adopt it as it is: a 64 TiB disk's BAT is 16 MiB).
 */
export async function readOwned(
  io: RandomAccess,
  offset: number,
  length: number,
): Promise<{ bytes: Uint8Array; owned: boolean }> {
  if (!io.readInto) return { bytes: await io.read(offset, length), owned: false };
  const bytes = new Uint8Array(length);
  await io.readInto(offset, bytes);
  return { bytes, owned: true };
}

/** Keeps all bytes in one growable buffer. Used by tests and for small scratch images. */
export class MemoryBackend implements RandomAccess {
  private buf: Uint8Array;
  private len: number;
  readonly readOnly: boolean;
  /** Number of flush() calls, for tests that count flushes. */
  flushes = 0;

  constructor(initial?: Uint8Array, opts: { readOnly?: boolean } = {}) {
    this.buf = initial ? initial.slice() : new Uint8Array(0);
    this.len = this.buf.length;
    this.readOnly = opts.readOnly ?? false;
  }

  /** A copy of the current contents. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    if (offset < this.len) out.set(this.buf.subarray(offset, Math.min(this.len, offset + length)));
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.assertWritable();
    this.ensure(offset + data.length);
    this.buf.set(data, offset);
    if (offset + data.length > this.len) this.len = offset + data.length;
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  async size(): Promise<number> {
    return this.len;
  }

  async truncate(size: number): Promise<void> {
    this.assertWritable();
    this.ensure(size);
    if (size < this.len) this.buf.fill(0, size, this.len);
    this.len = size;
  }

  async close(): Promise<void> {}

  private ensure(n: number): void {
    if (n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(n, this.buf.length * 2, 1 << 20));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private assertWritable(): void {
    if (this.readOnly) throw new Error("MemoryBackend is read-only");
  }
}

/**
 * Empties a file that is to be written anew. A file that is empty already is left alone: on ext4,
 * truncating to zero marks the file so that closing it forces out every page written since (its
 * "auto_da_alloc" safeguard for rewritten files), which made closing a new 500 MiB output cost
 * over 100 ms of writeback.
 */
export async function discardContents(io: RandomAccess): Promise<void> {
  if ((await io.size()) !== 0) await io.truncate(0);
}
