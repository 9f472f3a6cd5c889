/**
 * Runlists (mapping pairs) of non-resident attributes: a header byte whose low nibble sizes the
 * run's length and high nibble its LCN delta (signed, from the previous run's LCN); a delta of
 * no bytes is a sparse run. 0x00 ends the list.
 */
import { FsError } from "../errors";

/** `lcn` null: a sparse run (reads as zeros). */
export interface Run {
  vcn: number;
  length: number;
  lcn: number | null;
}

/** Decodes the runlist at `at` of `b`, starting at `startVcn`; every run is checked against `clusters`. */
export function decodeRunlist(
  b: Uint8Array,
  at: number,
  end: number,
  startVcn: number,
  clusters: number,
  offset: number,
): Run[] {
  const S = "runlist";
  const runs: Run[] = [];
  let vcn = startVcn;
  let lcn = 0;
  while (at < end) {
    const header = b[at];
    if (header === 0) return runs;
    const lenBytes = header & 0xf;
    const offBytes = header >>> 4;
    if (lenBytes === 0 || lenBytes > 8 || offBytes > 8 || at + 1 + lenBytes + offBytes > end) {
      throw new FsError(
        "FS_CORRUPT",
        `a run header 0x${header.toString(16)} that does not fit the attribute`,
        S,
        offset + at,
      );
    }
    let length = 0;
    for (let i = lenBytes - 1; i >= 0; i--) length = length * 256 + b[at + 1 + i];
    if (length === 0 || !Number.isSafeInteger(length) || length > clusters) {
      throw new FsError("FS_CORRUPT", `a run of ${length} clusters on a volume of ${clusters}`, S, offset + at);
    }
    if (offBytes === 0) {
      runs.push({ vcn, length, lcn: null });
    } else {
      let delta = 0;
      for (let i = offBytes - 1; i >= 0; i--) delta = delta * 256 + b[at + 1 + lenBytes + i];
      if (b[at + lenBytes + offBytes] & 0x80) delta -= 2 ** (8 * offBytes);
      lcn += delta;
      if (lcn < 0 || lcn + length > clusters) {
        throw new FsError(
          "FS_CORRUPT",
          `a run of ${length} clusters at LCN ${lcn} lies outside the volume (${clusters} clusters)`,
          S,
          offset + at,
        );
      }
      runs.push({ vcn, length, lcn });
    }
    vcn += length;
    at += 1 + lenBytes + offBytes;
  }
  return runs;
}
