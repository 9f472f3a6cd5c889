/**
 * Serialises writers: each holder runs alone, in arrival order. Allocation and the log are
 * critical sections, so every write and commit of an image runs under one Mutex.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * Readers share, a commit excludes them: a commit's switch (log entry applied and the in-memory
 * BAT updated) runs with no read in flight, so no read ever sees half of it.
 */
export class ReadGate {
  private readers = 0;
  private drained: (() => void) | null = null;
  private closed: Promise<void> | null = null;

  async read<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    this.readers++;
    try {
      return await fn();
    } finally {
      if (--this.readers === 0 && this.drained) this.drained();
    }
  }

  /** Runs `fn` once every read in flight has finished, holding new reads back until it ends. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    let open!: () => void;
    this.closed = new Promise<void>((r) => (open = r));
    try {
      if (this.readers > 0) await new Promise<void>((r) => (this.drained = r));
      this.drained = null;
      return await fn();
    } finally {
      this.closed = null;
      open();
    }
  }
}
