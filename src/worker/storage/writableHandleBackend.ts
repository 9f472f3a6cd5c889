import type { RandomAccess } from "../../vhdx/io";
import { VhdxError } from "../../vhdx/errors";
import { describeDomError, readBlobRange } from "./blobRange";
import { checkRange } from "./blobBackend";
import { ChunkCache } from "./chunkCache";
import { SequentialReadAhead } from "./readAhead";
import { IoCounters } from "./stats";
import { RangeSet } from "./rangeSet";
import { WriteOverlay } from "./writeOverlay";

/** What closing one writable costs: the browser copies the whole file into a swap file first. */
export interface CommitCost {
  /** Bytes the browser copies for one writable: the current file size. */
  bytesCopied: number;
  /** Writables per commit: one when the commit runs inside batch(). */
  writables: number;
  /** Estimated duration from the last measured commit, or null before any commit. */
  estimatedMs: number | null;
}

export interface CommitRecord {
  bytesCopied: number;
  /** Opening the writable (Chromium copies the file then) plus closing it (the swap); writes excluded. */
  ms: number;
}

interface BackendOptions {
  cache?: ChunkCache | null;
  overlayBudget?: number;
  readAhead?: SequentialReadAhead;
}

/** Staged bytes kept in memory for reads; beyond this they are dropped from memory (see write()). */
const DEFAULT_OVERLAY_BUDGET = 32 * 1024 * 1024;

/**
 * Read-write storage on the user's own file through the File System Access API (Chromium).
 *
 * Reads come from lazy slices of `handle.getFile()`. Writes go into one
 * `createWritable({ keepExistingData: true })` stream, opened on the first write. Chromium
 * implements that stream as a copy of the whole file (a ".crswap" swap file) which replaces the
 * original when the stream is closed; nothing reaches the file before that. So:
 *  - flush() closes the stream: the file is swapped in and the next write opens a new stream;
 *  - batch(fn) defers every flush inside fn to its end, so a whole commit costs one copy of the
 *    file and lands atomically (a failed or cancelled batch aborts the stream: the file is untouched);
 *  - commitCost() tells the UI what that copy costs before the user commits.
 * Until the stream closes, staged bytes are kept in a WriteOverlay so reads see them. Past the
 * overlay's budget the staged bytes leave memory and only their ranges are remembered: most of a
 * big commit (new payload blocks) is never read back before it ends. A read that does touch such a
 * range closes the stream early to read the bytes from the file, and the batch stops being atomic.
 */
export class WritableHandleBackend implements RandomAccess {
  readonly readOnly = false;
  readonly stats = new IoCounters();
  readonly handle: FileSystemFileHandle;
  private file: File;
  private readonly cache: ChunkCache | null;
  private readonly overlayBudget: number;
  /**
   * On the bytes of `file` only, below the cache, the overlay and the staged truncate. Its windows
   * belong to one File: a new snapshot (after a commit or an abort) drops them.
   */
  readonly readAhead: SequentialReadAhead;
  private writable: FileSystemWritableFileStream | null = null;
  /** How long opening the current writable took: its copy of the file is part of the commit's cost. */
  private writableOpenMs = 0;
  private readonly overlay = new WriteOverlay();
  /** Staged ranges whose bytes are no longer in the overlay. */
  private readonly spilled = new RangeSet();
  private logicalSize: number;
  /** Bytes of the current file at and past this offset read as zeros (a truncate is staged). */
  private zeroFrom = Infinity;
  private batchDepth = 0;
  /** False once a batch had to close its stream early: it is no longer atomic. */
  private batchAtomic = true;
  private lastCommit: CommitRecord | null = null;
  readonly commits: CommitRecord[] = [];

  private constructor(handle: FileSystemFileHandle, file: File, opts: BackendOptions) {
    this.handle = handle;
    this.file = file;
    this.logicalSize = file.size;
    this.cache = opts.cache ?? null;
    this.overlayBudget = opts.overlayBudget ?? DEFAULT_OVERLAY_BUDGET;
    this.readAhead = opts.readAhead ?? new SequentialReadAhead();
  }

  static async open(handle: FileSystemFileHandle, opts: BackendOptions = {}): Promise<WritableHandleBackend> {
    return new WritableHandleBackend(handle, await handle.getFile(), opts);
  }

  get name(): string {
    return this.handle.name;
  }

  /** Bytes of staged writes held in memory until the stream closes. */
  get stagedBytes(): number {
    return this.overlay.bytes;
  }

  /** True while a writable stream holds staged, uncommitted writes. */
  get hasPendingWrites(): boolean {
    return this.writable !== null;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.name);
    if (this.spilled.intersects(offset, offset + length)) {
      // The staged bytes asked for are only in the swap file: swap it in to read them.
      if (this.batchDepth > 0) this.batchAtomic = false;
      await this.closeStream();
    }
    const file = this.file;
    const fetch = (o: number, l: number): Promise<Uint8Array> => {
      this.stats.countRead(Math.max(0, Math.min(file.size, o + l) - o));
      return readBlobRange(file, o, l, this.name);
    };
    const raw = (o: number, l: number): Promise<Uint8Array> => this.readAhead.read(file, o, l, fetch);
    const out = this.cache ? await this.cache.read(offset, length, raw) : await raw(offset, length);
    const end = offset + length;
    if (this.zeroFrom < end) out.fill(0, Math.max(0, this.zeroFrom - offset));
    this.overlay.applyTo(out, offset);
    if (this.logicalSize < end) out.fill(0, Math.max(0, this.logicalSize - offset));
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    checkRange(offset, data.length, this.name);
    const w = await this.stream();
    try {
      await w.write({ type: "write", position: offset, data: toArrayBufferView(data) });
    } catch (e) {
      throw ioError(`Cannot write ${data.length} bytes to ${this.name}`, e, this.name, offset);
    }
    this.stats.countWrite(data.length);
    this.overlay.add(offset, data);
    this.logicalSize = Math.max(this.logicalSize, offset + data.length);
    // The overlay must not grow without bound on huge commits (a conversion, a bulk import):
    // past the budget the staged bytes stay in the swap file only.
    if (this.overlay.bytes > this.overlayBudget) {
      for (const r of this.overlay.ranges()) this.spilled.add(r.start, r.start + r.length);
      this.overlay.clear();
    }
  }

  async truncate(size: number): Promise<void> {
    checkRange(size, 0, this.name);
    const w = await this.stream();
    try {
      await w.truncate(size);
    } catch (e) {
      throw ioError(`Cannot resize ${this.name} to ${size} bytes`, e, this.name, size);
    }
    this.overlay.truncate(size);
    this.spilled.truncate(size);
    this.zeroFrom = Math.min(this.zeroFrom, size);
    this.logicalSize = size;
  }

  /** Closes the stream (the browser swaps the file in), unless a batch() defers it. */
  async flush(): Promise<void> {
    this.stats.flushes++;
    if (this.batchDepth > 0) return;
    await this.closeStream();
  }

  async size(): Promise<number> {
    return this.logicalSize;
  }

  /**
   * Runs `fn` as one commit: its flushes are deferred and the stream is closed once at the end.
   * If `fn` throws (including on cancellation), the stream is aborted and the file keeps its
   * previous bytes — unless a read of staged bytes beyond the overlay budget forced an early close (`atomic: false`).
   */
  async batch<T>(fn: () => Promise<T>): Promise<{ value: T; atomic: boolean }> {
    if (this.batchDepth === 0) this.batchAtomic = true;
    this.batchDepth++;
    let value: T;
    try {
      value = await fn();
    } catch (e) {
      this.batchDepth--;
      if (this.batchDepth === 0) await this.abort();
      throw e;
    }
    this.batchDepth--;
    if (this.batchDepth === 0) await this.closeStream();
    return { value, atomic: this.batchAtomic };
  }

  /** Discards staged writes: the file keeps the bytes it had at the last close. */
  async abort(): Promise<void> {
    const w = this.writable;
    this.writable = null;
    if (w) {
      try {
        await w.abort();
      } catch {
        // An errored stream is already discarded by the browser.
      }
    }
    this.resetStaging(this.file);
  }

  /** What the next commit will cost: the browser copies the whole file once per writable. */
  commitCost(): CommitCost {
    const bytes = this.logicalSize;
    const last = this.lastCommit;
    const estimatedMs = last && last.bytesCopied > 0 && last.ms > 0 ? (bytes * last.ms) / last.bytesCopied : null;
    return { bytesCopied: bytes, writables: 1, estimatedMs };
  }

  /** Closing without a flush discards staged writes: only flushed writes are promised durable. */
  async close(): Promise<void> {
    await this.abort();
    this.cache?.clear();
  }

  private async stream(): Promise<FileSystemWritableFileStream> {
    if (this.writable) return this.writable;
    const t0 = performance.now();
    try {
      this.writable = await this.handle.createWritable({ keepExistingData: true });
      this.writableOpenMs = performance.now() - t0;
    } catch (e) {
      throw ioError(`Cannot open ${this.name} for writing`, e, this.name, 0);
    }
    return this.writable;
  }

  private async closeStream(): Promise<void> {
    const w = this.writable;
    if (!w) return;
    this.writable = null;
    const bytesCopied = this.file.size;
    const t0 = performance.now();
    try {
      await w.close();
    } catch (e) {
      this.resetStaging(this.file);
      throw ioError(`Cannot save ${this.name}: the browser did not replace the file`, e, this.name, 0);
    }
    const record = { bytesCopied, ms: this.writableOpenMs + performance.now() - t0 };
    this.lastCommit = record;
    this.commits.push(record);
    if (this.commits.length > 16) this.commits.shift();
    this.resetStaging(await this.handle.getFile());
  }

  private resetStaging(file: File): void {
    this.file = file;
    this.overlay.clear();
    this.spilled.clear();
    this.zeroFrom = Infinity;
    this.logicalSize = file.size;
    // Cached chunks and read-ahead windows describe the previous file; a new snapshot starts clean.
    this.cache?.clear();
    this.readAhead.drop();
  }
}

/** The stream API wants an ArrayBuffer-backed view; a view over a SharedArrayBuffer is copied. */
function toArrayBufferView(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : new Uint8Array(data);
}

export function ioError(what: string, e: unknown, structure: string, offset: number): VhdxError {
  const name = e instanceof Error ? e.name : "";
  const hint =
    name === "NotAllowedError"
      ? "permission to write was not granted"
      : name === "QuotaExceededError"
        ? "the browser's storage quota is exhausted"
        : name === "NoModificationAllowedError"
          ? "another tab or program holds the file"
          : describeDomError(e);
  return new VhdxError("IO_ERROR", `${what}: ${hint}`, structure, offset);
}
