import { open, type FileHandle } from "node:fs/promises";
import type { ByteRange, VirtualDisk } from "../vhdx/image";
import { VhdxError } from "../vhdx/errors";
import { hasKnownSize, inputKind, sizeOf } from "./deviceSize";
import { lockFile, type FileLock, type LockMode } from "./fileLock";
import { findHoles } from "./holes";

/**
 * A raw disk image file as a virtual disk, for streaming conversions. readInto fills the caller's
 * buffer directly (convert's pump keeps a fixed set of them), so a 1 GiB input costs no allocation
 * per piece; past the end of the file the disk reads as zeros (a size padded to whole sectors).
 * The file's holes (see holes.ts) are looked up as soon as it is opened, alongside whatever the
 * caller does next, and offered as known zero ranges.
 */
export class RawFileDisk implements VirtualDisk {
  private readonly holes: Promise<ByteRange[]>;
  /** Settles once the lock asked for is held (at once without one); rejects when it was refused. */
  readonly locked: Promise<void>;
  private lock: FileLock | null = null;

  private constructor(
    private readonly fh: FileHandle,
    readonly virtualSize: number,
    lock: Promise<FileLock | null>,
  ) {
    this.holes = findHoles(fh, virtualSize);
    this.locked = lock.then((l) => {
      this.lock = l;
    });
    this.locked.catch(() => undefined);
  }

  /**
   * A regular file or a block device (sized where its reads end, as qemu-img sizes one). A pipe or
   * a character device has no size to give the image before it is read: refused.
   */
  static async open(path: string, opts: { lock?: LockMode; deferLock?: boolean } = {}): Promise<RawFileDisk> {
    const fh = await open(path, "r");
    try {
      const st = await fh.stat();
      if (!hasKnownSize(st)) {
        throw new VhdxError(
          "INVALID_ARGUMENT",
          `${path} is ${inputKind(st)}: a conversion needs an input whose size is known up front (a file or a block device); \`vhdx write --input\` takes a stream`,
          "input",
        );
      }
      const size = await sizeOf(fh, st);
      // Held until close: QEMU's lock, as for an image (fileLock.ts); deferred as NodeFileBackend's.
      const lock = opts.lock ? lockFile(fh, opts.lock) : Promise.resolve(null);
      if (!opts.deferLock) await lock;
      return new RawFileDisk(fh, size, lock);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    await this.readInto(offset, out);
    return out;
  }

  async readInto(offset: number, target: Uint8Array): Promise<void> {
    const length = target.length;
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(target, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done < length) target.fill(0, done);
  }

  knownZeroRanges(): Promise<readonly ByteRange[]> {
    return this.holes;
  }

  async close(): Promise<void> {
    // The lookup reads the file and hands its descriptor to filefrag: let it end first.
    await this.holes;
    await this.locked.catch(() => undefined);
    await this.lock?.release();
    return this.fh.close();
  }
}
