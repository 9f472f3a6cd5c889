/**
 * A model of Chromium's FileSystemFileHandle for driving the worker and its storage in Node:
 * createWritable() works on a swap copy of the file (a copy of its bytes with keepExistingData,
 * else empty) that replaces the file on close() and is dropped on abort(); getFile() is a snapshot.
 */
export class ModelHandle {
  readonly kind = "file";
  bytes: Uint8Array;
  writablesOpened = 0;
  constructor(
    readonly name: string,
    initial: Uint8Array,
  ) {
    this.bytes = initial.slice();
  }
  async getFile(): Promise<File> {
    return new File([this.bytes.slice()], this.name);
  }
  async createWritable(opts: { keepExistingData?: boolean } = {}) {
    this.writablesOpened++;
    let swap = opts.keepExistingData ? this.bytes.slice() : new Uint8Array(0);
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
      abort: async () => {
        swap = new Uint8Array(0);
      },
    };
  }
  /** As the worker takes it. */
  get handle(): FileSystemFileHandle {
    return this as unknown as FileSystemFileHandle;
  }
}
