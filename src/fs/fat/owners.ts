/**
 * Which file or directory holds each cluster: built once, on the first `ownerOf` of the data
 * region, by walking the tree from the root. Each directory is walked once (by its first
 * cluster), so a loop or a cross-link in the tree cannot make the walk run on.
 */
import { FsError } from "../errors";
import type { FsEntry, Owner } from "../types";
import type { ClusterRun, FatTable } from "./fat";

interface Holder {
  entry: FsEntry;
  runs: ClusterRun[];
}

interface Walkable {
  root(): Promise<FsEntry>;
  readDir(dir: FsEntry): AsyncIterable<FsEntry>;
  readonly blockSize: number;
}

export class OwnerIndex {
  private constructor(
    private readonly byCluster: Int32Array,
    private readonly holders: Holder[],
    private readonly clusterBytes: number,
  ) {}

  static async build(fs: Walkable, fat: FatTable): Promise<OwnerIndex> {
    const byCluster = new Int32Array(fat.bs.clusterCount + 2).fill(-1);
    const holders: Holder[] = [];
    const claim = (entry: FsEntry, runs: ClusterRun[]) => {
      const h = holders.length;
      holders.push({ entry, runs });
      for (const r of runs) for (let c = r.first; c < r.first + r.count; c++) if (byCluster[c] < 0) byCluster[c] = h;
    };
    const root = await fs.root();
    const walked = new Set<number>();
    const queue: FsEntry[] = [root];
    for (let q = 0; q < queue.length; q++) {
      const dir = queue[q];
      const first = (dir.ref as number[])[0];
      if (walked.has(first)) continue;
      walked.add(first);
      try {
        if (first !== 0) claim(dir, await fat.runs(first, `directory ${dir.path}`));
        for await (const e of fs.readDir(dir)) {
          if (e.type === "dir") {
            if (!e.findings?.some((f) => f.code === "FAT_DIRECTORY_LOOP")) queue.push(e);
          } else if (e.size > 0) {
            try {
              claim(e, await fat.runs((e.ref as number[])[0], `file ${e.path}`, Math.ceil(e.size / fs.blockSize)));
            } catch (err) {
              if (!(err instanceof FsError)) throw err;
            }
          }
        }
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
      }
    }
    return new OwnerIndex(byCluster, holders, fs.blockSize);
  }

  /** The owner of `cluster`, `inCluster` bytes into it, or null when nothing reachable holds it. */
  owner(cluster: number, inCluster: number): Owner | null {
    const h = this.byCluster[cluster];
    if (h === undefined || h < 0) return null;
    const { entry, runs } = this.holders[h];
    if (entry.type === "dir") return { kind: "structure", structure: "directory", path: entry.path };
    let before = 0;
    for (const r of runs) {
      if (cluster >= r.first && cluster < r.first + r.count) {
        const fileOffset = (before + cluster - r.first) * this.clusterBytes + inCluster;
        return fileOffset < entry.size
          ? { kind: "file", path: entry.path, fileOffset, entry }
          : { kind: "structure", structure: "file slack", path: entry.path };
      }
      before += r.count;
    }
    return null;
  }
}
