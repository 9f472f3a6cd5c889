/**
 * A non-resident attribute's bytes ("stream"): its runs gathered from every record that holds a
 * piece, mapped from file offsets to the volume (sparse runs and bytes past the initialized size
 * read as zeros), and compressed units decoded with LZNT1.
 */
import { FsError } from "../errors";
import type { BlockDevice, FileExtent } from "../types";
import { ATTR_FLAG_COMPRESSED, type Attribute } from "./attribute";
import { decompressLznt1 } from "./lznt1";
import type { Run } from "./runlist";

export interface Stream {
  /** Resident value, or null. */
  value: Uint8Array | null;
  /** Resident: where the value lies on the volume (inside its MFT record). */
  valueDeviceOffset: number;
  runs: Run[];
  dataSize: number;
  initializedSize: number;
  compressed: boolean;
  /** Clusters per compression unit (16 for NTFS), when compressed. */
  unitClusters: number;
  clusterBytes: number;
}

/** One stream from the pieces of one attribute (same type and name), in VCN order. */
export function streamOf(pieces: Attribute[], clusterBytes: number, what: string, partial = false): Stream {
  const sorted = [...pieces].sort((a, b) => a.lowestVcn - b.lowestVcn);
  const first = sorted[0];
  if (!first) throw new FsError("FS_CORRUPT", `${what}: no attribute holds it`, "attribute header");
  if (first.value)
    return {
      value: first.value,
      valueDeviceOffset: first.recordOffset + first.valueOffset,
      runs: [],
      dataSize: first.value.length,
      initializedSize: first.value.length,
      compressed: false,
      unitClusters: 0,
      clusterBytes,
    };
  if (first.lowestVcn !== 0)
    throw new FsError(
      "FS_CORRUPT",
      `${what}: its first piece starts at VCN ${first.lowestVcn}`,
      "attribute header",
      first.recordOffset,
    );
  const runs: Run[] = [];
  let next = 0;
  for (const p of sorted) {
    if (p.value)
      throw new FsError(
        "FS_CORRUPT",
        `${what}: a resident piece among non-resident ones`,
        "attribute header",
        p.recordOffset,
      );
    if (p.lowestVcn !== next)
      throw new FsError("FS_CORRUPT", `${what}: pieces leave a gap at VCN ${next}`, "attribute header", p.recordOffset);
    for (const r of p.runs) runs.push(r);
    next = runs.length ? runs[runs.length - 1].vcn + runs[runs.length - 1].length : next;
  }
  const compressed = (first.flags & ATTR_FLAG_COMPRESSED) !== 0 && first.compressionUnit > 0;
  if (compressed && first.compressionUnit > 16)
    throw new FsError(
      "FS_UNSUPPORTED",
      `${what}: a compression unit of 2^${first.compressionUnit} clusters`,
      "attribute header",
      first.recordOffset,
    );
  const stream: Stream = {
    value: null,
    valueDeviceOffset: 0,
    runs,
    dataSize: first.dataSize,
    initializedSize: first.initializedSize,
    compressed,
    unitClusters: compressed ? 2 ** first.compressionUnit : 0,
    clusterBytes,
  };
  if (!partial && next * clusterBytes < Math.min(stream.dataSize, stream.initializedSize) && !compressed) {
    throw new FsError(
      "FS_CORRUPT",
      `${what}: its runs cover ${next * clusterBytes} bytes of ${stream.initializedSize}`,
      "runlist",
      first.recordOffset,
    );
  }
  return stream;
}

/** The runs covering clusters [vcn, vcn + count), in order (sparse and missing runs as lcn null). */
function runsIn(s: Stream, vcn: number, count: number): Run[] {
  const out: Run[] = [];
  let lo = 0;
  let hi = s.runs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (s.runs[mid].vcn <= vcn) lo = mid;
    else hi = mid - 1;
  }
  let at = vcn;
  const end = vcn + count;
  for (let i = lo; i < s.runs.length && at < end; i++) {
    const r = s.runs[i];
    if (r.vcn + r.length <= at) continue;
    if (r.vcn > at) {
      out.push({ vcn: at, length: Math.min(r.vcn, end) - at, lcn: null });
      at = Math.min(r.vcn, end);
      if (at >= end) break;
    }
    const skip = at - r.vcn;
    const n = Math.min(r.length - skip, end - at);
    out.push({ vcn: at, length: n, lcn: r.lcn === null ? null : r.lcn + skip });
    at += n;
  }
  if (at < end) out.push({ vcn: at, length: end - at, lcn: null });
  return out;
}

/** Where the stream's bytes lie, in file order, covering [0, dataSize). */
export function* streamExtents(s: Stream): Generator<FileExtent> {
  const cb = s.clusterBytes;
  if (s.value || s.dataSize === 0) return;
  if (s.compressed) {
    const unit = s.unitClusters * cb;
    for (let u = 0; u * unit < s.dataSize; u++) {
      const runs = runsIn(s, u * s.unitClusters, s.unitClusters);
      const stored = runs.filter((r) => r.lcn !== null);
      const length = Math.min(unit, s.dataSize - u * unit);
      if (stored.length === 0 || u * unit >= s.initializedSize)
        yield { fileOffset: u * unit, length, deviceOffset: null };
      else if (stored.reduce((n, r) => n + r.length, 0) === s.unitClusters) {
        // A unit stored whole is not compressed.
        let at = u * unit;
        for (const r of runs) {
          const n = Math.min(r.length * cb, u * unit + length - at);
          if (n > 0) yield { fileOffset: at, length: n, deviceOffset: r.lcn! * cb };
          at += n;
        }
      } else {
        const deviceLength = stored.reduce((n, r) => n + r.length, 0) * cb;
        yield { fileOffset: u * unit, length, deviceOffset: stored[0].lcn! * cb, deviceLength, encoded: true };
      }
    }
    return;
  }
  let at = 0;
  const clusters = Math.ceil(s.dataSize / cb);
  for (const r of runsIn(s, 0, clusters)) {
    const end = Math.min(s.dataSize, (r.vcn + r.length) * cb);
    const valid = Math.min(end, Math.max(at, s.initializedSize));
    if (valid > at) yield { fileOffset: at, length: valid - at, deviceOffset: r.lcn === null ? null : r.lcn * cb };
    if (end > valid) yield { fileOffset: valid, length: end - valid, deviceOffset: null };
    at = end;
  }
}

/** `length` bytes of the stream from `offset` (clipped to its size). */
export async function readStream(device: BlockDevice, s: Stream, offset: number, length: number): Promise<Uint8Array> {
  const end = Math.min(s.dataSize, offset + Math.max(0, length));
  if (end <= offset) return new Uint8Array(0);
  if (s.value) return s.value.slice(offset, end);
  const cb = s.clusterBytes;
  // Allocated once the whole range is known not to lie in one stored run (read as it comes below).
  let out: Uint8Array | null = null;
  if (s.compressed) {
    out = new Uint8Array(end - offset);
    const unit = s.unitClusters * cb;
    for (let u = Math.floor(offset / unit); u * unit < end; u++) {
      const uStart = u * unit;
      const runs = runsIn(s, u * s.unitClusters, s.unitClusters);
      const stored = runs.filter((r) => r.lcn !== null);
      if (stored.length === 0 || uStart >= s.initializedSize) continue;
      const plain = new Uint8Array(unit);
      const storedClusters = stored.reduce((n, r) => n + r.length, 0);
      const raw = new Uint8Array(storedClusters * cb);
      let at = 0;
      for (const r of stored) {
        raw.set(await device.read(r.lcn! * cb, r.length * cb), at);
        at += r.length * cb;
      }
      if (storedClusters === s.unitClusters) plain.set(raw);
      else decompressLznt1(raw, plain, stored[0].lcn! * cb);
      const from = Math.max(offset, uStart);
      const to = Math.min(end, uStart + unit, Math.max(s.initializedSize, uStart));
      if (to > from) out.set(plain.subarray(from - uStart, to - uStart), from - offset);
    }
    return out;
  }
  for (const x of streamExtents(s)) {
    const from = Math.max(offset, x.fileOffset);
    const to = Math.min(end, x.fileOffset + x.length);
    // The whole range in one stored run: the device's bytes as they come, no copy.
    if (from === offset && to === end && x.deviceOffset !== null)
      return device.read(x.deviceOffset + (from - x.fileOffset), to - from);
    if (to <= from || x.deviceOffset === null) continue;
    out ??= new Uint8Array(end - offset);
    out.set(await device.read(x.deviceOffset + (from - x.fileOffset), to - from), from - offset);
    if (x.fileOffset + x.length >= end) break;
  }
  return out ?? new Uint8Array(end - offset);
}
