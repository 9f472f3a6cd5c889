/**
 * A model of Chromium's FileSystemFileHandle for driving the worker in Node: a writable works on a
 * copy of the file that replaces it on close() and is dropped on abort(), as Chromium's swap file.
 */
export class ModelHandle {
  readonly kind = "file";
  writablesOpened = 0;
  constructor(
    readonly name: string,
    public bytes: Uint8Array,
  ) {}
  async getFile(): Promise<File> {
    return new File([this.bytes.slice()], this.name);
  }
  async createWritable() {
    this.writablesOpened++;
    let swap = this.bytes.slice();
    const grow = (n: number) => {
      if (n <= swap.length) return;
      const next = new Uint8Array(n);
      next.set(swap);
      swap = next;
    };
    return {
      write: async (cmd: { position: number; data: Uint8Array }) => {
        grow(cmd.position + cmd.data.length);
        swap.set(cmd.data, cmd.position);
      },
      truncate: async (n: number) => {
        grow(n);
        swap = swap.slice(0, n);
      },
      close: async () => {
        this.bytes = swap;
      },
      abort: async () => undefined,
    };
  }
  /** As the worker takes it. */
  get handle(): FileSystemFileHandle {
    return this as unknown as FileSystemFileHandle;
  }
}
