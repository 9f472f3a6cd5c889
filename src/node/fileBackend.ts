import { open, FileHandle } from "node:fs/promises";
import { RandomAccess } from "../vhdx/io";
import { VhdxError } from "../vhdx/errors";

/** The engine's storage on a local file, through positional reads and writes. */
export class NodeFileBackend implements RandomAccess {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    readonly readOnly: boolean,
  ) {}

  static async open(path: string, opts: { readOnly?: boolean; create?: boolean } = {}): Promise<NodeFileBackend> {
    const readOnly = opts.readOnly ?? true;
    const flags = readOnly ? "r" : opts.create ? "w+" : "r+";
    return new NodeFileBackend(await open(path, flags), path, readOnly);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break; // past the end: the rest stays zero
      done += bytesRead;
    }
    return buf;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.assertWritable();
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    this.assertWritable();
    await this.fh.sync();
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  async truncate(size: number): Promise<void> {
    this.assertWritable();
    await this.fh.truncate(size);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  private assertWritable(): void {
    if (this.readOnly) throw new VhdxError("READ_ONLY", `${this.path} is open read-only`, "file");
  }
}
