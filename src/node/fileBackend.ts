/**
 * RandomAccess over a real file, for Node (the CLI and the tests).
 * Positional reads and writes on one fs/promises FileHandle: no shared file position,
 * so concurrent engine reads never race each other.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { RandomAccess } from "../vhdx/io";
import { VhdxError } from "../vhdx/errors";
import { lockFile, type FileLock, type LockMode } from "./fileLock";
import { sizeOf } from "./deviceSize";
import { findHoles } from "./holes";

export interface NodeFileOpenOptions {
  /** Default true: the file is opened for reading only and every write is refused. */
  readOnly?: boolean;
  /**
   * Create the file: "exclusive" fails when it already exists (never clobbers a disk by accident),
   * "overwrite" truncates an existing file to zero bytes. Implies readOnly false.
   */
  create?: "exclusive" | "overwrite";
  /**
   * Take QEMU's byte-range locks (see fileLock.ts) for as long as the file is open: "shared" for
   * reading, "exclusive" for writing. Refused with FILE_LOCKED when another program conflicts.
   * Default none (the engine's tests open files by the thousand).
   */
  lock?: LockMode;
  /**
   * With `lock`: open at once and take the lock alongside whatever the caller does next; `locked`
   * settles when it is held (or rejects with FILE_LOCKED). For a caller whose work counts only at
   * its end, such as a copy out of the file into a new output: it awaits `locked` before
   * committing that output, and a refusal discards the work. (The lock costs a process start.)
   */
  deferLock?: boolean;
}

export class NodeFileBackend implements RandomAccess {
  readonly path: string;
  readonly readOnly: boolean;
  private handle: FileHandle | null;
  private lock: FileLock | null = null;
  /** A block device's size, found once at open (stat() says 0 for one). */
  private deviceSize: number | null = null;
  /** Settles once the lock asked for is held (at once without one); rejects when it was refused. */
  locked: Promise<void> = Promise.resolve();

  private constructor(path: string, handle: FileHandle, readOnly: boolean) {
    this.path = path;
    this.handle = handle;
    this.readOnly = readOnly;
  }

  static async open(path: string, opts: NodeFileOpenOptions = {}): Promise<NodeFileBackend> {
    const readOnly = opts.create ? false : (opts.readOnly ?? true);
    const flags = opts.create === "exclusive" ? "wx+" : opts.create === "overwrite" ? "w+" : readOnly ? "r" : "r+";
    const handle = await open(path, flags);
    const file = new NodeFileBackend(path, handle, readOnly);
    const st = await handle.stat().catch(async (e: unknown) => {
      await handle.close();
      throw e;
    });
    if (st.isBlockDevice()) file.deviceSize = await sizeOf(handle, st);
    if (opts.lock) {
      const taking = lockFile(handle, opts.lock).then((lock) => {
        file.lock = lock;
      });
      if (opts.deferLock) {
        file.locked = taking;
        // Observed by the caller (or by close); a refusal must not go unhandled meanwhile.
        taking.catch(() => undefined);
      } else {
        try {
          await taking;
        } catch (e) {
          await handle.close();
          throw e;
        }
      }
    }
    return file;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, "read");
    // Uninitialised memory, filled by the read; whatever lies past the end of the file is then
    // zeroed, as RandomAccess promises. (Zero-filling large buffers up front costs page faults twice.)
    const buf = Buffer.allocUnsafeSlow(length);
    const out = new Uint8Array(buf.buffer, buf.byteOffset, length);
    await this.readInto(offset, out);
    return out;
  }

  async readInto(offset: number, target: Uint8Array): Promise<void> {
    const length = target.length;
    checkRange(offset, length, "read");
    const h = this.live();
    let done = 0;
    while (done < length) {
      const { bytesRead } = await h.read(target, done, length - done, offset + done);
      if (bytesRead === 0) break; // end of file
      done += bytesRead;
    }
    if (done < length) target.fill(0, done);
  }

  /**
   * The file's holes of 1 MiB or more (holes.ts: from its extent map, sampled back as zeros), looked
   * up anew at each call since writes fill them; none for a block device or when the map is unsure.
   * Costs a process start on a sparse file, so only a reader with much to skip asks.
   */
  async knownZeroRanges(): Promise<readonly { start: number; end: number }[]> {
    if (this.deviceSize !== null) return [];
    const h = this.live();
    return findHoles(h, (await h.stat()).size);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    checkRange(offset, data.length, "write");
    const h = this.writable("write");
    let done = 0;
    // A positional write may be short (signals, quotas); loop until all of it is down.
    while (done < data.length) {
      const { bytesWritten } = await h.write(data, done, data.length - done, offset + done);
      if (bytesWritten === 0) {
        throw new VhdxError(
          "IO_ERROR",
          `${this.path}: write made no progress at ${offset + done}`,
          "file",
          offset + done,
        );
      }
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    // fdatasync also persists a size change, which is all the metadata a later read depends on.
    await this.writable("flush").datasync();
  }

  async size(): Promise<number> {
    if (this.deviceSize !== null) return this.deviceSize;
    return (await this.live().stat()).size;
  }

  async truncate(size: number): Promise<void> {
    checkRange(size, 0, "truncate");
    await this.writable("truncate").truncate(size);
  }

  async close(): Promise<void> {
    // A lock still being taken is let finish first, so its bytes never outlive the registry.
    await this.locked.catch(() => undefined);
    const h = this.handle;
    this.handle = null;
    const lock = this.lock;
    this.lock = null;
    try {
      await lock?.release();
    } finally {
      if (h) await h.close();
    }
  }

  private live(): FileHandle {
    if (!this.handle) throw new VhdxError("IO_ERROR", `${this.path}: file is closed`, "file");
    return this.handle;
  }

  private writable(op: string): FileHandle {
    if (this.readOnly) throw new VhdxError("READ_ONLY", `${this.path}: opened read-only, ${op} refused`, "file");
    return this.live();
  }
}

function checkRange(offset: number, length: number, op: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new VhdxError("OUT_OF_RANGE", `${op} at ${offset} of ${length} bytes is not a valid file range`, "file");
  }
  if (offset + length > Number.MAX_SAFE_INTEGER) {
    throw new VhdxError("OUT_OF_RANGE", `${op} at ${offset} of ${length} bytes ends past 2^53`, "file");
  }
}
