/**
 * A least-recently-used map bounded by bytes, not entries: the worker's caches must stay
 * within a fixed budget (64 MiB beyond the BAT in total) whatever the image size.
 */
export class ByteLru<K, V extends { byteLength: number }> {
  private readonly map = new Map<K, V>();
  private used = 0;
  readonly budget: number;

  constructor(budgetBytes: number) {
    if (!(budgetBytes >= 0)) throw new RangeError(`cache budget must be >= 0, got ${budgetBytes}`);
    this.budget = budgetBytes;
  }

  /** Bytes currently held. */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, marked most recently used. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    // Map keeps insertion order: re-inserting moves the key to the young end.
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  /** The value without touching its age. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Stores a value, evicting the oldest entries until the budget holds. A value larger than the budget is not kept. */
  set(key: K, value: V): void {
    this.delete(key);
    if (value.byteLength > this.budget) return;
    this.map.set(key, value);
    this.used += value.byteLength;
    for (const [k, v] of this.map) {
      if (this.used <= this.budget) break;
      this.map.delete(k);
      this.used -= v.byteLength;
    }
  }

  delete(key: K): boolean {
    const v = this.map.get(key);
    if (v === undefined) return false;
    this.map.delete(key);
    this.used -= v.byteLength;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }

  /** Keys from oldest to youngest. */
  keys(): K[] {
    return [...this.map.keys()];
  }
}
