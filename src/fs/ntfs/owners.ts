/**
 * Which file or structure owns each cluster of an NTFS volume: built once, on the first
 * `ownerOf`, from every in-use MFT record's non-resident attributes (the record count bounds the
 * walk), with each record's path from its $FILE_NAME parents; $Bitmap tells free clusters apart.
 */
import { FsError } from "../errors";
import type { Owner } from "../types";
import { AT_BITMAP, AT_DATA, AT_FILE_NAME, AT_INDEX_ALLOCATION, type Attribute } from "./attribute";
import { NS_DOS, parseFileName } from "./fileName";
import type { NtfsFileSystem } from "./fileSystem";
import { RECORD_IN_USE } from "./mftRecord";
import { readStream, streamOf } from "./stream";

interface Span {
  lcn: number;
  length: number;
  vcn: number;
  record: number;
  type: number;
  name: string;
}

const METAFILES: Record<number, string> = {
  0: "$MFT",
  1: "$MFTMirr",
  2: "$LogFile",
  3: "$Volume",
  4: "$AttrDef",
  6: "$Bitmap",
  7: "$Boot",
  8: "$BadClus",
  9: "$Secure",
  10: "$UpCase",
  11: "$Extend",
};

/** Records looked at most (a damaged MFT that claims more stops here). */
const MAX_RECORDS = 16_000_000;

export class OwnerIndex {
  private constructor(
    private readonly spans: Span[],
    private readonly names: Map<number, { parent: number; name: string }>,
    private readonly bitmap: Uint8Array | null,
  ) {}

  static async build(fs: NtfsFileSystem): Promise<OwnerIndex> {
    const spans: Span[] = [];
    const names = new Map<number, { parent: number; name: string }>();
    const n = Math.min(fs.mft.recordCount, MAX_RECORDS);
    for (let r = 0; r < n; r++) {
      let rec;
      try {
        rec = await fs.mft.record(r);
      } catch (e) {
        if (e instanceof FsError) continue;
        throw e;
      }
      if (!(rec.flags & RECORD_IN_USE)) continue;
      const owner = rec.baseRecord || r;
      for (const a of rec.attributes) {
        if (a.type === AT_FILE_NAME && a.value) {
          const fname = parseFileName(a.value, a.recordOffset);
          if (fname.namespace !== NS_DOS && !names.has(owner))
            names.set(owner, { parent: fname.parent, name: fname.name });
        }
        if (a.value) continue;
        for (const run of a.runs)
          if (run.lcn !== null)
            spans.push({ lcn: run.lcn, length: run.length, vcn: run.vcn, record: owner, type: a.type, name: a.name });
      }
    }
    spans.sort((a, b) => a.lcn - b.lcn);
    let bitmap: Uint8Array | null = null;
    try {
      const rec = await fs.load(6);
      const pieces = rec.attributes.filter((a: Attribute) => a.type === AT_DATA && a.name === "");
      const s = streamOf(pieces, fs.bs.bytesPerCluster, "$Bitmap");
      if (s.dataSize <= 64 * 1024 * 1024) bitmap = await readStream(fs.device, s, 0, s.dataSize);
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
    }
    return new OwnerIndex(spans, names, bitmap);
  }

  /** "/a/b" for a record, from its $FILE_NAME parents (bounded by the depth a path can have). */
  pathOf(record: number): string | null {
    const parts: string[] = [];
    for (let r = record, i = 0; i < 1024; i++) {
      if (r === 5) return parts.reverse().join("/");
      const n = this.names.get(r);
      if (!n) return null;
      parts.push(n.name);
      r = n.parent;
    }
    return null;
  }

  owner(fs: NtfsFileSystem, offset: number): Owner {
    const cb = fs.bs.bytesPerCluster;
    const lcn = Math.floor(offset / cb);
    let lo = 0;
    let hi = this.spans.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.spans[mid];
      if (lcn < s.lcn) hi = mid - 1;
      else if (lcn >= s.lcn + s.length) lo = mid + 1;
      else {
        const fileOffset = (s.vcn + (lcn - s.lcn)) * cb + (offset % cb);
        if (s.record === 0 && s.type === AT_DATA)
          return { kind: "structure", structure: `$MFT, MFT record ${Math.floor(fileOffset / fs.bs.mftRecordSize)}` };
        const meta = METAFILES[s.record];
        if (meta && s.record < 16) return { kind: "structure", structure: meta };
        const path = this.pathOf(s.record);
        if (s.type === AT_INDEX_ALLOCATION)
          return {
            kind: "structure",
            structure: `index block of directory /${path ?? `(MFT record ${s.record})`}`,
            path: path ?? undefined,
          };
        if (s.type === AT_BITMAP)
          return { kind: "structure", structure: `index bitmap of /${path ?? `(MFT record ${s.record})`}` };
        if (s.type === AT_DATA && path !== null) {
          const full = s.name ? `${path}:${s.name}` : path;
          return {
            kind: "file",
            path: full,
            fileOffset,
            entry: {
              name: full.split("/").pop()!,
              path: full,
              type: "file",
              size: 0,
              mtime: null,
              ref: [s.record, s.name, 0],
            },
          };
        }
        return { kind: "structure", structure: `attribute 0x${s.type.toString(16)} of MFT record ${s.record}` };
      }
    }
    if (this.bitmap) {
      const used = (this.bitmap[lcn >>> 3] >>> (lcn & 7)) & 1;
      return used ? { kind: "unknown" } : { kind: "free" };
    }
    return { kind: "unknown" };
  }
}
