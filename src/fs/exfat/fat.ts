/**
 * The exFAT File Allocation Table (§4): one 32-bit entry per cluster; 0xFFFFFFF7 marks a bad
 * cluster, 0xFFFFFFFF the end of a chain. A file whose stream extension sets NoFatChain is one
 * contiguous run and its FAT entries mean nothing (§6.3.4.2).
 */
import { FsError } from "../errors";
import type { BlockDevice } from "../types";
import type { ExfatBootSector } from "./bootSector";

export const BAD_CLUSTER = 0xfffffff7;
export const END_OF_CHAIN = 0xffffffff;

/** Contiguous clusters [first, first + count). */
export interface ClusterRun {
  first: number;
  count: number;
}

/** FAT sectors read at once and kept (the last few) while chains are followed. */
const PIECE = 256 * 1024;
const PIECES_KEPT = 16;

export class ExfatFat {
  private readonly base: number;
  private readonly pieces = new Map<number, Uint8Array>();

  constructor(
    private readonly device: BlockDevice,
    readonly bs: ExfatBootSector,
  ) {
    // §3.1.13: ActiveFat picks the second FAT on a TexFAT volume with two.
    const active = bs.numberOfFats === 2 && bs.volumeFlags & 1 ? 1 : 0;
    this.base = (bs.fatOffset + active * bs.fatLength) * bs.bytesPerSector;
  }

  /** The FAT's entry for `cluster`. */
  async entry(cluster: number): Promise<number> {
    const at = cluster * 4;
    const piece = Math.floor(at / PIECE);
    let bytes = this.pieces.get(piece);
    if (!bytes) {
      const start = this.base + piece * PIECE;
      const len = Math.min(PIECE, (this.bs.clusterCount + 2) * 4 - piece * PIECE);
      bytes = await this.device.read(start, Math.ceil(len / 4) * 4);
      if (this.pieces.size >= PIECES_KEPT) this.pieces.delete(this.pieces.keys().next().value!);
      this.pieces.set(piece, bytes);
    }
    const o = at - piece * PIECE;
    return (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0;
  }

  /** Byte offset of a cluster on the volume. */
  clusterOffset(cluster: number): number {
    return this.bs.clusterHeapOffset * this.bs.bytesPerSector + (cluster - 2) * this.bs.bytesPerCluster;
  }

  isValidCluster(c: number): boolean {
    return c >= 2 && c <= this.bs.clusterCount + 1;
  }

  /**
   * The runs of a chain, enough for `bytes` bytes (all of it when `bytes` is null). A chain that
   * loops, leaves the heap, meets a bad or free cluster, or ends short is an FsError naming
   * the FAT entry; the walk never takes more steps than the heap has clusters.
   */
  async runs(first: number, bytes: number | null, noFatChain: boolean, owner: string): Promise<ClusterRun[]> {
    const per = this.bs.bytesPerCluster;
    const need = bytes === null ? Infinity : Math.ceil(bytes / per);
    if (need === 0) return [];
    if (!this.isValidCluster(first)) {
      throw new FsError(
        "FS_CORRUPT",
        `${owner}: its first cluster ${first} is not in the cluster heap`,
        "FirstCluster",
      );
    }
    if (noFatChain) {
      if (need === Infinity)
        throw new FsError("FS_CORRUPT", `${owner}: a contiguous run needs a length`, "stream extension");
      if (first + need - 1 > this.bs.clusterCount + 1) {
        throw new FsError(
          "FS_CORRUPT",
          `${owner}: ${need} contiguous clusters from ${first} run past the heap`,
          "stream extension",
        );
      }
      return [{ first, count: need }];
    }
    const runs: ClusterRun[] = [];
    let c = first;
    let n = 0;
    for (;;) {
      if (n >= this.bs.clusterCount) {
        throw new FsError(
          "FS_CORRUPT",
          `${owner}: its cluster chain is longer than the heap (a loop)`,
          "FAT",
          this.base + c * 4,
        );
      }
      const last = runs[runs.length - 1];
      if (last && last.first + last.count === c) last.count++;
      else runs.push({ first: c, count: 1 });
      n++;
      if (n >= need) return runs;
      const next = await this.entry(c);
      if (next === END_OF_CHAIN) {
        if (need !== Infinity) {
          throw new FsError(
            "FS_CORRUPT",
            `${owner}: its cluster chain ends after ${n} of ${need} clusters`,
            "FAT",
            this.base + c * 4,
          );
        }
        return runs;
      }
      if (!this.isValidCluster(next)) {
        const what =
          next === BAD_CLUSTER ? "a bad cluster" : next === 0 ? "a free cluster" : `cluster ${next}, outside the heap`;
        throw new FsError("FS_CORRUPT", `${owner}: cluster ${c} chains to ${what}`, "FAT", this.base + c * 4);
      }
      c = next;
    }
  }
}
