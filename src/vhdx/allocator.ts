import { alignUp, MiB } from "./bytes";
import { hex, VhdxError } from "./errors";
import { Gap, RegionRegistry } from "./registry";

/** A range handed out: `reclaimed` names the BAT entry whose retained block it was (§2.5.1.1). */
export interface Allocation {
  start: number;
  grows: boolean;
  reclaimed?: number;
}

/**
 * Finds file space for new blocks (§2.5: 1 MiB aligned). Free gaps that no structure or block
 * uses (from the region registry) are reused first, lowest offset first; only then does the file
 * grow. Every range handed out is vetted against the registry before use.
 *
 * Retained blocks (UNMAPPED or UNDEFINED entries keeping their old contents, §2.5.1.1) own their
 * space. With `reclaimFirst` (a fixed image, whose file already holds its disk), a block that finds
 * no gap takes a retained block's space before the file grows, the block's own first; the caller
 * commits that entry's FileOffsetMB cleared before writing there, then calls `adopt` (§2.5.1:
 * non-zero offsets stay unique; §2.5.1.1: a retained offset points at the old contents).
 */
export class Allocator {
  private gaps: Gap[] | null = null;
  /** Ranges handed out but not yet registered (a commit in progress). */
  private pending: (Gap & { reclaimed?: number })[] = [];

  constructor(
    private readonly registryOf: () => RegionRegistry,
    private readonly fileSize: () => number,
    private readonly reclaimFirst: () => boolean = () => false,
  ) {}

  private get registry(): RegionRegistry {
    return this.registryOf();
  }

  /**
   * A 1 MiB-aligned range of `length` bytes (a multiple of 1 MiB), for BAT entry `forEntry` when
   * given (its own retained block is the first one reclaimed).
   */
  allocate(length: number, forEntry?: number): Allocation {
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
    if (this.reclaimFirst()) {
      const free = this.registry
        .retainedBlocks()
        .filter((r) => r.length === length && !this.pending.some((p) => p.start === r.start));
      const pick = free.find((r) => r.index === forEntry) ?? free[0];
      if (pick) return this.vetReclaim(pick.start, length, pick.index!);
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

  /**
   * Gives a range back (a freed block after copy-on-write, or an allocation whose commit failed).
   * A reclaimed retained block whose commit failed stays its entry's: it does not become a gap.
   */
  release(start: number, length: number): void {
    const wasReclaimed = this.pending.some((p) => p.start === start && p.reclaimed !== undefined);
    this.pending = this.pending.filter((p) => p.start !== start);
    if (wasReclaimed) return;
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

  /**
   * A reclaimed range whose entry let it go (its FileOffsetMB cleared in the file): a plain
   * allocation from now on, a free gap again if its commit fails.
   */
  adopt(start: number): void {
    const p = this.pending.find((r) => r.start === start);
    if (p) delete p.reclaimed;
  }

  /** The allocation is now registered in the registry (its commit succeeded). */
  settle(start: number): void {
    this.pending = this.pending.filter((p) => p.start !== start);
  }

  /**
   * Room for a structure (not a block) at the end of the file, past every block handed out and
   * not yet committed: nothing is reclaimed and no gap reused. Pending like a block until forgotten.
   */
  allocateAtEnd(length: number): Allocation {
    const end = Math.max(
      alignUp(this.fileSize(), MiB),
      alignUp(this.registry.end(), MiB),
      ...this.pending.map((p) => p.start + p.length),
    );
    return this.vet(end, length, true);
  }

  /** The ranges handed out and not yet committed (kept across a reset by `keepPending`). */
  pendingRanges(): readonly (Gap & { reclaimed?: number })[] {
    return [...this.pending];
  }

  /** After a reset (the registry re-read mid-commit): the ranges still handed out stay taken. */
  keepPending(ranges: readonly (Gap & { reclaimed?: number })[]): void {
    this.gaps = null;
    this.pending = [...ranges];
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

  /** A retained block handed out: the registry holds exactly that entry's block there, nothing else. */
  private vetReclaim(start: number, length: number, entry: number): Allocation {
    const a = this.registry.find(start);
    const b = this.registry.find(start + length - 1);
    if (!a?.retained || a.index !== entry || b?.index !== entry || a.start !== start || a.length !== length) {
      throw new VhdxError(
        "REGION_OVERLAP",
        `reclaiming [${hex(start)}, ${hex(start + length)}) from BAT entry ${entry} would overlap ${b?.name ?? a?.name ?? "nothing registered"}`,
        "allocator",
        start,
      );
    }
    this.pending.push({ start, length, reclaimed: entry });
    return { start, grows: false, reclaimed: entry };
  }

  private vet(start: number, length: number, grows: boolean): Allocation {
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
