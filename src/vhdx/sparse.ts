import { isAllZero } from "./bytes";
import { RandomAccess } from "./io";

/** Granularity of the holes left for zero runs. */
const HOLE = 4096;

/** Writes only the runs of `bytes` that are not all zero, in HOLE-sized granules; returns bytes written. */
export async function writeNonZeroRuns(out: RandomAccess, offset: number, bytes: Uint8Array): Promise<number> {
  let written = 0;
  let runStart = -1;
  const flushRun = async (end: number) => {
    await out.write(offset + runStart, bytes.subarray(runStart, end));
    written += end - runStart;
    runStart = -1;
  };
  for (let at = 0; at < bytes.length; at += HOLE) {
    // Most data granules differ from zero in their first byte: no view made, no call.
    const zero = bytes[at] === 0 && isAllZero(bytes.subarray(at, at + HOLE));
    if (!zero && runStart < 0) runStart = at;
    else if (zero && runStart >= 0) await flushRun(at);
  }
  if (runStart >= 0) await flushRun(bytes.length);
  return written;
}
