import { alignUp, MiB } from "./bytes";
import { hex, VhdxError } from "./errors";
import { Gap, RegionRegistry } from "./registry";

/**
 * Finds file space for new blocks (§2.5: 1 MiB aligned). Free gaps that no structure or block
 * uses (from the region registry) are reused first, lowest offset first; only then does the file
 * grow. Every range handed out is vetted against the registry before use.
 */
export class Allocator {
  private gaps: Gap[] | null = null;
  /** Ranges handed out but not yet registered (a commit in progress). */
  private pending: Gap[] = [];

  constructor(
    private readonly registryOf: () => RegionRegistry,
    private readonly fileSize: () => number,
  ) {}

  private get registry(): RegionRegistry {
    return this.registryOf();
  }

  /** A 1 MiB-aligned range of `length` bytes (a multiple of 1 MiB). */
  allocate(length: number): { start: number; grows: boolean } {
    const gaps = this.freeGaps();
    for (let i = 0; i < gaps.length; i++) {
      const g = gaps[i];
      if (g.length >= length) {
        const start = g.start;
        if (g.length === length) gaps.splice(i, 1);
        else gaps[i] = { start: g.start + length, length: g.length - length };
        return this.vet(start, length, false);
      }
    }
    const end = Math.max(
      alignUp(this.fileSize(), MiB),
      alignUp(this.registry.end(), MiB),
      ...this.pending.map((p) => p.start + p.length),
    );
    return this.vet(end, length, true);
  }

  /** Bytes of free gaps inside the file. */
  freeBytes(): number {
    return this.freeGaps().reduce((n, g) => n + g.length, 0);
  }

  /** Gives a range back (a freed block after copy-on-write, or an allocation whose commit failed). */
  release(start: number, length: number): void {
    this.pending = this.pending.filter((p) => p.start !== start);
    const gaps = this.freeGaps();
    gaps.push({ start, length });
    gaps.sort((a, b) => a.start - b.start);
    // Merge neighbours so a later, larger allocation can use them.
    for (let i = gaps.length - 1; i > 0; i--) {
      if (gaps[i - 1].start + gaps[i - 1].length === gaps[i].start) {
        gaps[i - 1] = { start: gaps[i - 1].start, length: gaps[i - 1].length + gaps[i].length };
        gaps.splice(i, 1);
      }
    }
  }

  /** The allocation is now registered in the registry (its commit succeeded). */
  settle(start: number): void {
    this.pending = this.pending.filter((p) => p.start !== start);
  }

  /** Forgets the cached gaps (the registry changed under us, e.g. after a structure patch). */
  reset(): void {
    this.gaps = null;
    this.pending = [];
  }

  private freeGaps(): Gap[] {
    if (!this.gaps)
      this.gaps = this.registry
        .freeGaps(this.fileSize(), MiB)
        .filter((g) => !this.pending.some((p) => p.start < g.start + g.length && g.start < p.start + p.length));
    return this.gaps;
  }

  private vet(start: number, length: number, grows: boolean): { start: number; grows: boolean } {
    const hit = this.registry.find(start) ?? this.registry.find(start + length - 1);
    const pend = this.pending.find((p) => p.start < start + length && start < p.start + p.length);
    if (hit || pend || start % MiB !== 0 || start < MiB) {
      throw new VhdxError(
        "REGION_OVERLAP",
        `allocating [${hex(start)}, ${hex(start + length)}) would overlap ${hit ? hit.name : "another allocation in progress"}`,
        "allocator",
        start,
      );
    }
    this.pending.push({ start, length });
    return { start, grows };
  }
}
