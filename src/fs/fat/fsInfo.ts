/**
 * The FAT32 FSInfo sector: hints of the free cluster count and the next free cluster. Hints only:
 * nothing here is trusted for reading, and a bad signature is a finding.
 */
export const FSI_LEAD_SIG = 0x41615252;
export const FSI_STRUC_SIG = 0x61417272;
export const FSI_TRAIL_SIG = 0xaa550000;
/** FSI_Free_Count / FSI_Nxt_Free value meaning "not known". */
export const FSI_UNKNOWN = 0xffffffff;

export interface FsInfo {
  signaturesValid: boolean;
  /** FSI_Free_Count, or null when unknown. */
  freeCount: number | null;
  /** FSI_Nxt_Free, or null when unknown. */
  nextFree: number | null;
}

export function parseFsInfo(b: Uint8Array): FsInfo {
  const dv = new DataView(b.buffer, b.byteOffset, 512);
  const signaturesValid =
    dv.getUint32(0, true) === FSI_LEAD_SIG &&
    dv.getUint32(484, true) === FSI_STRUC_SIG &&
    dv.getUint32(508, true) === FSI_TRAIL_SIG;
  const free = dv.getUint32(488, true);
  const next = dv.getUint32(492, true);
  return {
    signaturesValid,
    freeCount: free === FSI_UNKNOWN ? null : free,
    nextFree: next === FSI_UNKNOWN ? null : next,
  };
}

export function serializeFsInfo(info: FsInfo): Uint8Array {
  const b = new Uint8Array(512);
  const dv = new DataView(b.buffer);
  if (info.signaturesValid) {
    dv.setUint32(0, FSI_LEAD_SIG, true);
    dv.setUint32(484, FSI_STRUC_SIG, true);
    dv.setUint32(508, FSI_TRAIL_SIG, true);
  }
  dv.setUint32(488, info.freeCount ?? FSI_UNKNOWN, true);
  dv.setUint32(492, info.nextFree ?? FSI_UNKNOWN, true);
  return b;
}
