import { open, type FileHandle } from "node:fs/promises";
import type { ByteRange, VirtualDisk } from "../vhdx/image";
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

  private constructor(
    private readonly fh: FileHandle,
    readonly virtualSize: number,
  ) {
    this.holes = findHoles(fh, virtualSize);
  }

  static async open(path: string): Promise<RawFileDisk> {
    const fh = await open(path, "r");
    try {
      return new RawFileDisk(fh, (await fh.stat()).size);
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
    return this.fh.close();
  }
}
