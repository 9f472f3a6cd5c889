/**
 * The File Allocation Table: one entry per cluster, the next cluster of a chain, free (0), bad,
 * or end of chain. Read a 64 KiB page at a time as chains need it. Chains are walked with bounds:
 * never longer than the volume's cluster count, a loop found rather than followed.
 */
import { FsError } from "../errors";
import type { BlockDevice, FsFinding } from "../types";
import type { BootSector, FatType } from "./bootSector";

const PAGE = 64 * 1024;
/** FATs compared at mount at most (each); beyond that the comparison is skipped with a finding. */
export const FAT_COMPARE_LIMIT = 64 * 1024 * 1024;

/** A run of contiguous clusters. */
export interface ClusterRun {
  first: number;
  count: number;
}

export function entryBits(t: FatType): number {
  return t === "fat12" ? 12 : t === "fat16" ? 16 : 32;
}

/** The end-of-chain threshold and the bad-cluster mark of each FAT type. */
function marks(t: FatType): { eoc: number; bad: number } {
  if (t === "fat12") return { eoc: 0xff8, bad: 0xff7 };
  if (t === "fat16") return { eoc: 0xfff8, bad: 0xfff7 };
  return { eoc: 0x0ffffff8, bad: 0x0ffffff7 };
}

/** Entry `n` of a FAT held in `b` (a whole FAT or a page that holds the entry's bytes at `base`). */
export function fatEntry(b: Uint8Array, t: FatType, n: number, base = 0): number {
  if (t === "fat16") {
    const at = n * 2 - base;
    return b[at] | (b[at + 1] << 8);
  }
  if (t === "fat32") {
    const at = n * 4 - base;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) & 0x0fffffff;
  }
  const at = n + (n >> 1) - base;
  const v = b[at] | (b[at + 1] << 8);
  return n & 1 ? v >> 4 : v & 0xfff;
}

export class FatTable {
  readonly type: FatType;
  /** The FAT chains are read from (0-based): the first, unless FAT32's ExtFlags names another. */
  readonly active: number;
  readonly offset: number;
  readonly length: number;
  private readonly pages = new Map<number, Uint8Array>();
  private readonly eoc: number;
  private readonly bad: number;

  constructor(
    private readonly device: BlockDevice,
    readonly bs: BootSector,
  ) {
    this.type = bs.fatType;
    const mirroringOff = bs.fatType === "fat32" && (bs.extFlags & 0x80) !== 0;
    this.active = mirroringOff && (bs.extFlags & 0xf) < bs.numFats ? bs.extFlags & 0xf : 0;
    this.length = bs.fatSize * bs.bytesPerSector;
    this.offset = this.fatOffset(this.active);
    ({ eoc: this.eoc, bad: this.bad } = marks(bs.fatType));
  }

  fatOffset(i: number): number {
    return (this.bs.reservedSectors + i * this.bs.fatSize) * this.bs.bytesPerSector;
  }

  /** Device offset of a cluster's entry in the active FAT. */
  entryOffset(cluster: number): number {
    return this.offset + Math.floor((cluster * entryBits(this.type)) / 8);
  }

  /** The value of a cluster's entry (FAT32: the low 28 bits). */
  async next(cluster: number): Promise<number> {
    const byte = Math.floor((cluster * entryBits(this.type)) / 8);
    const p = Math.floor(byte / PAGE);
    const page = await this.page(p);
    if (byte + 1 < (p + 1) * PAGE || this.type !== "fat12") return fatEntry(page, this.type, cluster, p * PAGE);
    // A FAT12 entry whose two bytes straddle two pages.
    const two = new Uint8Array(2);
    two[0] = page[byte - p * PAGE];
    two[1] = (await this.page(p + 1))[0];
    const v = two[0] | (two[1] << 8);
    return cluster & 1 ? v >> 4 : v & 0xfff;
  }

  /** The entry when its page is already read (no await per cluster on long chains), else undefined. */
  peek(cluster: number): number | undefined {
    const byte = Math.floor((cluster * entryBits(this.type)) / 8);
    const p = Math.floor(byte / PAGE);
    const page = this.pages.get(p);
    if (!page || (this.type === "fat12" && byte + 1 >= (p + 1) * PAGE)) return undefined;
    return fatEntry(page, this.type, cluster, p * PAGE);
  }

  private async page(p: number): Promise<Uint8Array> {
    let b = this.pages.get(p);
    if (!b) {
      const len = Math.min(PAGE, this.length - p * PAGE);
      b = len > 0 ? await this.device.read(this.offset + p * PAGE, len) : new Uint8Array(0);
      this.pages.set(p, b);
    }
    return b;
  }

  isEnd(v: number): boolean {
    return v >= this.eoc;
  }

  isData(v: number): boolean {
    return v >= 2 && v <= this.bs.clusterCount + 1;
  }

  describe(v: number): string {
    if (v === 0) return "a free cluster";
    if (v === this.bad) return "a bad cluster";
    if (v === 1 || (v > this.bs.clusterCount + 1 && v < this.eoc)) return `cluster ${v}, outside the data region`;
    return `cluster ${v}`;
  }

  /**
   * The chain from `first` as runs of contiguous clusters. With `clusters` the walk stops after
   * that many (a file's length); a chain that ends early is an error. Without, it runs to the end
   * of chain. Either way a loop, a free or bad cluster, or a cluster outside the data region in
   * the chain is an FsError naming the FAT entry; no chain is followed longer than the volume.
   */
  async runs(first: number, what: string, clusters?: number): Promise<ClusterRun[]> {
    const out: ClusterRun[] = [];
    const structure = `FAT ${this.active + 1}`;
    if (!this.isData(first))
      throw new FsError(
        "FS_CORRUPT",
        `${what} starts at ${this.describe(first)}`,
        structure,
        this.entryOffset(Math.min(first, this.bs.clusterCount + 1)),
      );
    const limit = clusters ?? this.bs.clusterCount;
    let seen: Uint8Array | null = null;
    let cur = first;
    let run: ClusterRun = { first, count: 1 };
    for (let n = 1; ; n++) {
      if (n >= limit && clusters !== undefined) break;
      const v = this.peek(cur) ?? (await this.next(cur));
      if (this.isEnd(v)) {
        if (clusters !== undefined)
          throw new FsError(
            "FS_CORRUPT",
            `${what}: the cluster chain ends after ${n} of ${clusters} clusters`,
            structure,
            this.entryOffset(cur),
          );
        break;
      }
      if (!this.isData(v))
        throw new FsError(
          "FS_CORRUPT",
          `${what}: cluster ${cur} leads to ${this.describe(v)}`,
          structure,
          this.entryOffset(cur),
        );
      if (n >= this.bs.clusterCount)
        throw new FsError(
          "FS_CORRUPT",
          `${what}: the cluster chain is longer than the volume's ${this.bs.clusterCount} clusters (a loop)`,
          structure,
          this.entryOffset(cur),
        );
      const loop = () =>
        new FsError(
          "FS_CORRUPT",
          `${what}: the cluster chain loops (cluster ${cur} leads back to ${v})`,
          structure,
          this.entryOffset(cur),
        );
      if (seen && seen[v >> 3] & (1 << (v & 7))) throw loop();
      if (v === cur + 1) run.count++;
      else {
        // A jump: from here on every cluster is remembered, so a loop back is caught.
        if (!seen) {
          seen = new Uint8Array((this.bs.clusterCount + 2 + 7) >> 3);
          for (const r of out) markRun(seen, r);
          markRun(seen, run);
          if (seen[v >> 3] & (1 << (v & 7))) throw loop();
        }
        out.push(run);
        run = { first: v, count: 1 };
      }
      if (seen) seen[v >> 3] |= 1 << (v & 7);
      cur = v;
    }
    out.push(run);
    return out;
  }

  /**
   * Compares every FAT with the active one, a megabyte at a time; differences are findings
   * (the number of differing bytes and the first one). FAT32 with mirroring off is not compared.
   */
  async compareCopies(findings: FsFinding[]): Promise<void> {
    if (this.bs.numFats < 2) return;
    if (this.bs.fatType === "fat32" && (this.bs.extFlags & 0x80) !== 0) return;
    if (this.length > FAT_COMPARE_LIMIT) {
      findings.push({
        severity: "info",
        code: "FAT_NOT_COMPARED",
        message: `the FATs (${this.length} bytes each) are larger than ${FAT_COMPARE_LIMIT} bytes and were not compared`,
        structure: "FAT 2",
        offset: this.fatOffset(1),
      });
      return;
    }
    const step = 1024 * 1024;
    for (let i = 0; i < this.bs.numFats; i++) {
      if (i === this.active) continue;
      let differing = 0;
      let firstAt = -1;
      for (let at = 0; at < this.length; at += step) {
        const len = Math.min(step, this.length - at);
        const a = await this.device.read(this.offset + at, len);
        const b = await this.device.read(this.fatOffset(i) + at, len);
        for (let k = 0; k < len; k++)
          if (a[k] !== b[k]) {
            differing++;
            if (firstAt < 0) firstAt = at + k;
          }
      }
      if (differing > 0) {
        const entry = Math.floor((firstAt * 8) / entryBits(this.type));
        findings.push({
          severity: "warning",
          code: "FAT_COPIES_DIFFER",
          message: `FAT ${i + 1} differs from FAT ${this.active + 1} in ${differing} bytes, first at entry ${entry} (byte ${firstAt}); FAT ${this.active + 1} is used`,
          structure: `FAT ${i + 1}`,
          offset: this.fatOffset(i) + firstAt,
        });
      }
    }
  }
}

function markRun(seen: Uint8Array, r: ClusterRun): void {
  for (let c = r.first; c < r.first + r.count; c++) seen[c >> 3] |= 1 << (c & 7);
}
