import type { RandomAccess } from "../../vhdx/io";
import { checkRange, readOnlyError } from "./blobBackend";
import { createSyncAccessHandle, type FileSystemSyncAccessHandle } from "./fsa";
import { IoCounters } from "./stats";
import { ioError } from "./writableHandleBackend";

/**
 * In-place storage on an origin-private (OPFS) file through FileSystemSyncAccessHandle, which
 * exists only in dedicated workers. Reads and writes go straight to the file, flush() is a real
 * flush, so the log's write-ahead ordering gives real crash safety here. The fast path for many
 * commits on a large image.
 */
export class OpfsSyncBackend implements RandomAccess {
  readonly readOnly: boolean;
  readonly stats = new IoCounters();
  readonly path: string;
  private access: FileSystemSyncAccessHandle | null;

  private constructor(access: FileSystemSyncAccessHandle, path: string, readOnly: boolean) {
    this.access = access;
    this.path = path;
    this.readOnly = readOnly;
  }

  /**
   * Opens the file's sync access handle. Read-write handles are exclusive: while one is open,
   * no other tab can open the file, which is what makes in-place editing safe.
   */
  static async open(
    handle: FileSystemFileHandle,
    path: string,
    opts: { readOnly?: boolean } = {},
  ): Promise<OpfsSyncBackend> {
    const readOnly = opts.readOnly ?? false;
    let access: FileSystemSyncAccessHandle;
    try {
      access = await createSyncAccessHandle(handle, readOnly ? "read-only" : "readwrite");
    } catch (e) {
      throw ioError(`Cannot open ${path} in the origin-private file system`, e, path, 0);
    }
    return new OpfsSyncBackend(access, path, readOnly);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.path);
    const a = this.handle();
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = a.read(out.subarray(done), { at: offset + done });
      if (n <= 0) break; // end of file: the rest stays zero
      done += n;
    }
    this.stats.countRead(done);
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    checkRange(offset, data.length, this.path);
    if (this.readOnly) throw readOnlyError(this.path, offset);
    const a = this.handle();
    let done = 0;
    try {
      while (done < data.length) {
        const n = a.write(data.subarray(done), { at: offset + done });
        if (n <= 0) throw new Error(`short write (${done} of ${data.length} bytes)`);
        done += n;
      }
    } catch (e) {
      throw ioError(`Cannot write ${data.length} bytes to ${this.path}`, e, this.path, offset + done);
    }
    this.stats.countWrite(data.length);
  }

  async flush(): Promise<void> {
    this.stats.flushes++;
    if (this.readOnly) return;
    try {
      this.handle().flush();
    } catch (e) {
      throw ioError(`Cannot flush ${this.path}`, e, this.path, 0);
    }
  }

  async size(): Promise<number> {
    return this.handle().getSize();
  }

  async truncate(size: number): Promise<void> {
    checkRange(size, 0, this.path);
    if (this.readOnly) throw readOnlyError(this.path, size);
    try {
      this.handle().truncate(size);
    } catch (e) {
      throw ioError(`Cannot resize ${this.path} to ${size} bytes`, e, this.path, size);
    }
  }

  async close(): Promise<void> {
    const a = this.access;
    this.access = null;
    if (!a) return;
    if (!this.readOnly) a.flush();
    a.close();
  }

  private handle(): FileSystemSyncAccessHandle {
    if (!this.access) throw ioError(`${this.path} is closed`, new Error("closed"), this.path, 0);
    return this.access;
  }
}
