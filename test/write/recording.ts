/**
 * Crash simulation. RecordingBackend is a RandomAccess that records every write, truncate and
 * flush; crashImages() rebuilds the file as a power cut right after a given write would leave it:
 * everything up to the last flush is durable, and each later write is kept, dropped, or torn at
 * 512-byte granularity, in several combinations.
 */
import { MemoryBackend, RandomAccess } from "../../src/vhdx/io";

export type Op =
  { kind: "write"; offset: number; data: Uint8Array } | { kind: "truncate"; size: number } | { kind: "flush" };

export class RecordingBackend implements RandomAccess {
  readonly live: MemoryBackend;
  readonly ops: Op[] = [];
  readonly readOnly = false;

  constructor(initial: Uint8Array) {
    this.live = new MemoryBackend(initial);
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.live.read(offset, length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.ops.push({ kind: "write", offset, data: data.slice() });
    await this.live.write(offset, data);
  }

  async flush(): Promise<void> {
    this.ops.push({ kind: "flush" });
  }

  size(): Promise<number> {
    return this.live.size();
  }

  async truncate(size: number): Promise<void> {
    this.ops.push({ kind: "truncate", size });
    await this.live.truncate(size);
  }

  async close(): Promise<void> {}
}

/** Counts the calls that could change the storage, passing everything through. */
export class CountingBackend implements RandomAccess {
  changes = 0;
  constructor(private readonly base: RandomAccess) {}
  get readOnly() {
    return this.base.readOnly;
  }
  read(o: number, n: number) {
    return this.base.read(o, n);
  }
  write(o: number, d: Uint8Array) {
    this.changes++;
    return this.base.write(o, d);
  }
  flush() {
    return this.base.flush();
  }
  size() {
    return this.base.size();
  }
  truncate(n: number) {
    this.changes++;
    return this.base.truncate(n);
  }
  close() {
    return this.base.close();
  }
}

export const SECTOR_512 = 512;

/** Seeded choices for the torn variants. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

export interface CrashImage {
  /** Index of the write op after which the power is cut. */
  op: number;
  variant: string;
  bytes: Uint8Array;
}

/** How each write since the last flush survives the cut. */
const VARIANTS = [
  "all kept",
  "all dropped",
  "last dropped",
  "last torn",
  "torn 1",
  "torn 2",
  "torn 3",
  "every other",
] as const;

async function applyOp(m: MemoryBackend, op: Op): Promise<void> {
  if (op.kind === "write") await m.write(op.offset, op.data);
  else if (op.kind === "truncate") await m.truncate(op.size);
}

/**
 * For every write op with index in [from, to): the crash images of all variants, handed to
 * `check` one at a time (the images are large; none is kept).
 */
export async function forEachCrash(
  initial: Uint8Array,
  ops: readonly Op[],
  from: number,
  to: number,
  check: (c: CrashImage) => Promise<void>,
): Promise<number> {
  const durable = new MemoryBackend(initial);
  let pending: Op[] = [];
  let tried = 0;
  for (let i = 0; i < Math.min(to, ops.length); i++) {
    const op = ops[i];
    if (op.kind === "flush") {
      for (const p of pending) await applyOp(durable, p);
      pending = [];
      continue;
    }
    pending.push(op);
    if (op.kind !== "write" || i < from) continue;
    for (const variant of VARIANTS) {
      const m = new MemoryBackend(durable.bytes());
      const r = rng(i * 131 + variant.length * 7 + 1);
      for (let k = 0; k < pending.length; k++) {
        const p = pending[k];
        const last = k === pending.length - 1;
        if (variant === "all dropped" || (variant === "last dropped" && last)) continue;
        if (variant === "every other" && k % 2 === 1) continue;
        if (
          p.kind !== "write" ||
          variant === "all kept" ||
          variant === "last dropped" ||
          variant === "every other" ||
          (variant === "last torn" && !last)
        ) {
          await applyOp(m, p);
          continue;
        }
        // Torn: each 512-byte sector of the write independently reaches the disk or not.
        for (let s = 0; s < p.data.length; s += SECTOR_512) {
          if (r() < 0.5) await m.write(p.offset + s, p.data.subarray(s, Math.min(p.data.length, s + SECTOR_512)));
        }
      }
      tried++;
      await check({ op: i, variant, bytes: m.bytes() });
    }
  }
  return tried;
}
