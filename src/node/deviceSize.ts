/**
 * The size of what an open descriptor reads: a regular file's from stat(); a block device's (a
 * disk, a partition, a loop device) by where reads end, which is the size the kernel reports for
 * it (BLKGETSIZE64, what `qemu-img` takes through lseek to the end). Node has neither the ioctl
 * nor lseek, but a one-byte positional read past the end of a device reads nothing: the end is
 * found by doubling, then halving, in about 2 × 53 reads at most.
 */
import type { FileHandle } from "node:fs/promises";
import type { Stats } from "node:fs";

/** What kind of input `st` is, for messages: "a pipe", "a character device", … */
export function inputKind(st: Stats): string {
  if (st.isFIFO()) return "a pipe";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isSocket()) return "a socket";
  if (st.isDirectory()) return "a directory";
  if (st.isBlockDevice()) return "a block device";
  return "a file";
}

/** True when the descriptor's size is known up front: a regular file or a block device. */
export function hasKnownSize(st: Stats): boolean {
  return st.isFile() || st.isBlockDevice();
}

/** Bytes readable through `fh` (a regular file or a block device). */
export async function sizeOf(fh: FileHandle, st: Stats): Promise<number> {
  if (!st.isBlockDevice()) return st.size;
  const one = new Uint8Array(1);
  const readsAt = async (at: number) => (await fh.read(one, 0, 1, at)).bytesRead === 1;
  if (!(await readsAt(0))) return 0;
  // Invariant: a byte at `lo`, none at `hi`.
  let lo = 0;
  let hi = 1 << 20;
  while (await readsAt(hi)) {
    lo = hi;
    if (hi >= Number.MAX_SAFE_INTEGER / 2) return hi; // beyond 2^52: no device is this large
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (await readsAt(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}
