import { readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { isAllZero, MiB } from "../vhdx/bytes";
import type { ByteRange } from "../vhdx/image";

/**
 * Where a sparse file's holes are, so that a conversion need not read them (`qemu-img convert`
 * skips them with SEEK_DATA/SEEK_HOLE). Node's fs cannot ask the kernel this, so on Linux the
 * extent map comes from `filefrag` (e2fsprogs), which reads it with the FIEMAP ioctl.
 *
 * A hole reported where there is data would lose that data in the copy, so everything here errs
 * towards reading: every extent the map lists counts as data whatever its flags (unwritten and
 * delayed-allocation extents can hold data still in the page cache), only file systems whose
 * FIEMAP reports delayed allocations are trusted (ext2/3/4 and XFS), any output that is not
 * exactly the expected shape or is not known to be complete gives no holes at all, and a sample
 * of every hole is read back and must be zeros. Without filefrag, elsewhere than Linux, or on any
 * failure, the answer is "no holes known" and every byte is read.
 */

/** File systems whose FIEMAP lists delayed-allocation and unwritten extents: ext2/3/4, XFS. */
const TRUSTED_FILE_SYSTEMS = new Set(["ef53", "58465342"]);
/** Bytes read back at each place a hole is sampled to confirm the map. */
const PROBE = 4096;
/** Samples spread through the holes, besides their ends. */
const PROBES_SPREAD = 256;
/** Holes kept at most (the largest), each read back at both ends. */
const MAX_HOLES = 16384;

/** Runs `filefrag` on the open file and resolves to its standard output, or null when it cannot. */
export type ExtentMapRunner = (fh: FileHandle) => Promise<string | null>;

/** The holes of the open file `fh` of `size` bytes worth skipping: sorted, disjoint, each at least 1 MiB. */
export async function findHoles(
  fh: FileHandle,
  size: number,
  // Its module (and node:child_process) loads only for an input that may have holes.
  run: ExtentMapRunner = async (f) => (await import("./filefrag")).runFilefrag(f),
): Promise<ByteRange[]> {
  try {
    // Allocated space as large as the file: no hole worth the lookup (a file with holes can still
    // land here, counting its metadata blocks, and is then read whole, which is always right).
    if ((await fh.stat()).blocks * 512 >= size) return [];
    const text = await run(fh);
    if (text === null) return [];
    const all = holesFromFilefrag(text, size);
    if (all === null) return [];
    const holes = holesWorthSkipping(all);
    return holesReadAsZero(fh, holes) ? holes : [];
  } catch {
    return [];
  }
}

/**
 * Parses `filefrag -v -b1` output (extents in bytes) for a file of `size` bytes into the file's
 * holes, or null unless the output is complete and as expected: the file system is trusted, the
 * size matches, extents are in order without overlap, and the last one carries FIEMAP's "last"
 * flag (or the summary says there are none).
 */
export function holesFromFilefrag(text: string, size: number): ByteRange[] | null {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const fsType = /^Filesystem type is: ([0-9a-f]+)$/.exec(lines[0] ?? "");
  if (!fsType || !TRUSTED_FILE_SYSTEMS.has(fsType[1])) return null;
  const sized = /^File size of .* is (\d+) \((\d+) blocks? of 1 bytes?\)$/.exec(lines[1] ?? "");
  if (!sized || Number(sized[1]) !== size || Number(sized[2]) !== size) return null;
  const summary = /: (\d+) extents? found$/.exec(lines[lines.length - 1]);
  if (!summary) return null;
  const body = lines.slice(2, -1);
  if (body.length === 0) return Number(summary[1]) === 0 ? rangeIfAny(0, size) : null;
  if (!/^\s*ext:\s+logical_offset:/.test(body[0])) return null;
  const holes: ByteRange[] = [];
  let covered = 0; // data is known up to here
  let last = false;
  for (const line of body.slice(1)) {
    const m = /^\s*\d+:\s*(\d+)\.\.\s*(\d+):\s*\d+\.\.\s*\d+:\s*\d+:\s*(?:\d+:)?\s*([a-z_,]*)\s*$/.exec(line);
    if (!m || last) return null;
    const start = Number(m[1]);
    const end = Number(m[2]) + 1;
    if (!Number.isSafeInteger(end) || start < covered || end <= start) return null;
    holes.push(...rangeIfAny(covered, Math.min(start, size)));
    covered = end;
    last = m[3].split(",").includes("last");
  }
  if (!last) return null;
  holes.push(...rangeIfAny(covered, size));
  return holes;
}

/**
 * The holes a copy can skip: pieces are at least 1 MiB, so smaller holes never hold a whole one.
 * A very fragmented file keeps only its MAX_HOLES largest, which bounds the reading back.
 */
function holesWorthSkipping(holes: readonly ByteRange[]): ByteRange[] {
  const large = holes.filter((h) => h.end - h.start >= MiB);
  if (large.length <= MAX_HOLES) return large;
  return large
    .sort((a, b) => b.end - b.start - (a.end - a.start))
    .slice(0, MAX_HOLES)
    .sort((a, b) => a.start - b.start);
}

function rangeIfAny(start: number, end: number): ByteRange[] {
  return end > start ? [{ start, end }] : [];
}

/**
 * Reads back a sample of the holes: the first and last 4 KiB of each, and 4 KiB every `stride`
 * bytes through them (1 MiB, or wider so that there are at most PROBES_SPREAD such reads). All must
 * be zeros, or the map is not trusted. A guard against a wrong or stale map, such as one that left
 * out an extent of a MiB or more; not a proof, which only reading everything would give.
 */
function holesReadAsZero(fh: FileHandle, holes: readonly ByteRange[]): boolean {
  const total = holes.reduce((n, h) => n + h.end - h.start, 0);
  const stride = Math.max(MiB, Math.ceil(total / PROBES_SPREAD / PROBE) * PROBE);
  const probes: ByteRange[] = [];
  for (const h of holes) {
    const starts = new Set([h.start, Math.max(h.start, h.end - PROBE)]);
    for (let at = Math.ceil(h.start / stride) * stride; at < h.end; at += stride) starts.add(at);
    for (const at of starts) probes.push({ start: at, end: Math.min(h.end, at + PROBE) });
  }
  // Read on this thread: a hole's pages cost no disk I/O, and a few hundred reads through the
  // thread pool cost ten times as long in round trips as in reading (10–15 ms against 1–2).
  const buf = new Uint8Array(PROBE);
  for (const p of probes) {
    const length = p.end - p.start;
    if (readSync(fh.fd, buf, 0, length, p.start) !== length || !isAllZero(buf.subarray(0, length))) return false;
  }
  return true;
}
