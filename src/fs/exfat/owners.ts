/**
 * Which file or structure owns each cluster of an exFAT volume: built once, on the first
 * `ownerOf`, by walking the tree (each directory once) and recording every file's runs; the
 * allocation bitmap says which unowned clusters are free.
 */
import type { FsEntry, Owner } from "../types";
import type { ExfatFileSystem } from "./fileSystem";
import { readRuns } from "./fileSystem";

interface Span {
  first: number;
  count: number;
  /** File offset of the span's first byte. */
  fileOffset: number;
  entry: FsEntry | null;
  structure: string;
}

/** Directories walked at most (a damaged tree that loops stops here). */
const MAX_DIRECTORIES = 1_000_000;

export class OwnerIndex {
  private constructor(
    private readonly spans: Span[],
    private readonly bitmap: Uint8Array | null,
  ) {}

  static async build(fs: ExfatFileSystem): Promise<OwnerIndex> {
    const spans: Span[] = [];
    const per = fs.bs.bytesPerCluster;
    const add = async (
      first: number,
      length: number | null,
      noFatChain: boolean,
      entry: FsEntry | null,
      structure: string,
    ) => {
      try {
        let at = 0;
        for (const r of await fs.fat.runs(first, length, noFatChain, structure)) {
          spans.push({ first: r.first, count: r.count, fileOffset: at, entry, structure });
          at += r.count * per;
        }
      } catch {
        // A damaged chain owns what the other entries do not claim; it shows as a finding where it is listed.
      }
    };
    if (fs.bitmap) await add(fs.bitmap.first, fs.bitmap.length, false, null, "allocation bitmap");
    if (fs.upcase) await add(fs.upcase.first, fs.upcase.length, false, null, "up-case table");
    const root = await fs.root();
    await add(fs.bs.firstClusterOfRootDirectory, null, false, null, "root directory");
    const seen = new Set<number>([fs.bs.firstClusterOfRootDirectory]);
    const stack: FsEntry[] = [root];
    for (let n = 0; stack.length && n < MAX_DIRECTORIES; n++) {
      const dir = stack.pop()!;
      let children: FsEntry[] = [];
      try {
        children = [];
        for await (const e of fs.readDir(dir)) children.push(e);
      } catch {
        continue;
      }
      for (const e of children) {
        const [first, dataLength, noFatChain] = e.ref as number[];
        if (!first || dataLength === 0) continue;
        if (e.type === "dir") {
          if (seen.has(first)) continue;
          seen.add(first);
          await add(first, dataLength, noFatChain === 1, e, `directory /${e.path}`);
          stack.push(e);
        } else if (e.type === "file") await add(first, dataLength, noFatChain === 1, e, `/${e.path}`);
      }
    }
    spans.sort((a, b) => a.first - b.first);
    let bitmap: Uint8Array | null = null;
    if (fs.bitmap && fs.bitmap.length <= Math.ceil((fs.bs.clusterCount + 7) / 8) + per) {
      try {
        const runs = await fs.fat.runs(fs.bitmap.first, fs.bitmap.length, false, "allocation bitmap");
        bitmap = await readRuns(fs.device, fs.fat, runs, fs.bitmap.length);
      } catch {
        bitmap = null;
      }
    }
    return new OwnerIndex(spans, bitmap);
  }

  owner(fs: ExfatFileSystem, cluster: number, offset: number): Owner {
    let lo = 0;
    let hi = this.spans.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.spans[mid];
      if (cluster < s.first) hi = mid - 1;
      else if (cluster >= s.first + s.count) lo = mid + 1;
      else {
        const inSpan = offset - fs.fat.clusterOffset(s.first);
        if (s.entry && s.entry.type === "file") {
          return { kind: "file", path: s.entry.path, fileOffset: s.fileOffset + inSpan, entry: s.entry };
        }
        return { kind: "structure", structure: s.structure, path: s.entry?.path };
      }
    }
    if (this.bitmap) {
      const bit = cluster - 2;
      const used = (this.bitmap[bit >>> 3] >>> (bit & 7)) & 1;
      return used ? { kind: "unknown" } : { kind: "free" };
    }
    return { kind: "unknown" };
  }
}
