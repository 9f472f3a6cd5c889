import { RandomAccess } from "../io";
import { checkBat } from "./bat";
import { CheckContext, Finding } from "./findings";
import { checkHeaders } from "./headers";
import { checkLog } from "./log";
import { checkMetadata } from "./metadata";
import { checkOverlaps, registerStructures } from "./overlaps";
import { checkRegionTables } from "./regionTables";
import { checkSpace } from "./space";

export type { CheckCode, Finding, Severity } from "./findings";

export interface CheckOptions {
  /** Report unreferenced space as info findings (default true). */
  space?: boolean;
}

/** What the checker learned about the copies it can repair from. */
export interface CheckState {
  fileSize: number;
  /** Per header: valid by §2.2.2 (signature, checksum, version, log fields). */
  headerValid: [boolean, boolean];
  currentHeader: -1 | 0 | 1;
  /** Per region table copy: valid on its own. */
  regionTableValid: [boolean, boolean];
  regionTableMismatch: boolean;
  logNeedsReplay: boolean;
}

export interface CheckReport {
  /** True when no finding is an error. */
  ok: boolean;
  findings: Finding[];
  state: CheckState;
}

/**
 * Walks every structure the spec constrains and reports what is wrong, where. Never writes, never
 * throws for bad bytes: each defect is a finding, and the walk goes as far as the file allows.
 */
export async function checkImage(io: RandomAccess, opts: CheckOptions = {}): Promise<CheckReport> {
  const fileSize = await io.size();
  const ctx = new CheckContext(io, fileSize);
  const state: CheckState = {
    fileSize,
    headerValid: [false, false],
    currentHeader: -1,
    regionTableValid: [false, false],
    regionTableMismatch: false,
    logNeedsReplay: false,
  };
  await walk(ctx, state, opts);
  const findings = ctx.findings();
  return { ok: !findings.some((f) => f.severity === "error"), findings, state };
}

async function walk(ctx: CheckContext, state: CheckState, opts: CheckOptions): Promise<void> {
  const hs = await checkHeaders(ctx);
  if (!hs) return;
  state.headerValid = [hs.headerSlots[0].valid, hs.headerSlots[1].valid];
  state.currentHeader = hs.current;
  const rt = checkRegionTables(ctx, hs.section);
  state.regionTableValid = [rt.copies[0] !== null, rt.copies[1] !== null];
  state.regionTableMismatch = ctx.has("REGION_TABLE_MISMATCH");
  const current = hs.current;
  const header = current === -1 ? null : hs.headerSlots[current].header!;
  if (header && current !== -1) state.logNeedsReplay = (await checkLog(ctx, header, current)).needsReplay;
  const reg = registerStructures(header, rt.regions);
  let batOffset = 0;
  if (rt.metadataRegion) {
    const params = await checkMetadata(ctx, rt.metadataRegion);
    if (params && rt.batRegion) {
      batOffset = rt.batRegion.fileOffset;
      await checkBat(ctx, rt.batRegion, params, reg);
    }
  }
  checkOverlaps(ctx, reg, batOffset);
  if (opts.space !== false && hs.current >= 0 && rt.used >= 0) checkSpace(ctx, reg);
}
