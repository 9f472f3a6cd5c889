import { RandomAccess } from "../io";
import { checkBat } from "./bat";
import { CheckContext, Finding } from "./findings";
import { checkHeaders } from "./headers";
import { checkLog } from "./log";
import { checkMetadata } from "./metadata";
import { checkOverlaps, registerStructures } from "./overlaps";
import { checkRegionTables } from "./regionTables";
import { checkSpace } from "./space";
import { HEADER_SECTION_SIZE } from "../open";
import { REGION_TABLE_OFFSETS } from "../regionTable";

export type { CheckCode, Finding, Severity } from "./findings";

export interface CheckOptions {
  /** Report unreferenced space as info findings (default true). */
  space?: boolean;
  /** Called as each area of the file is checked: the share of the walk done, and the area next. */
  onProgress?: (fraction: number, area: string) => void;
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
  /** LogGuid set with no valid sequence: repairable by marking the log empty. */
  logGuidWithoutSequence: boolean;
  /** The log needs replay but the file is shorter than the log recorded. */
  logTruncated: boolean;
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
    logGuidWithoutSequence: false,
    logTruncated: false,
  };
  await walk(ctx, state, opts);
  const findings = ctx.findings();
  return { ok: !findings.some((f) => f.severity === "error"), findings, state };
}

async function walk(ctx: CheckContext, state: CheckState, opts: CheckOptions): Promise<void> {
  const io = ctx.io;
  const step = opts.onProgress ?? (() => undefined);
  step(0, "headers");
  const hs = await checkHeaders(ctx);
  if (!hs) return;
  state.headerValid = [hs.headerSlots[0].valid, hs.headerSlots[1].valid];
  state.currentHeader = hs.current;
  const current = hs.current;
  const header = current === -1 ? null : hs.headerSlots[current].header!;
  // §2.3.3: the log comes before everything but the headers; the rest is checked as replayed.
  let section = hs.section;
  if (header && current !== -1) {
    step(0.1, "log");
    const log = await checkLog(ctx, header, current);
    state.logNeedsReplay = log.needsReplay;
    state.logGuidWithoutSequence = log.guidWithoutSequence;
    state.logTruncated = log.truncated;
    if (ctx.io !== io) section = await ctx.read(0, HEADER_SECTION_SIZE);
  }
  step(0.3, "region tables");
  const rt = checkRegionTables(ctx, section);
  state.regionTableValid = [rt.copies[0] !== null, rt.copies[1] !== null];
  state.regionTableMismatch = ctx.has("REGION_TABLE_MISMATCH");
  const reg = registerStructures(header, rt.regions);
  let batOffset = 0;
  if (state.logTruncated) {
    ctx.add(
      "info",
      "CHECK_INCOMPLETE",
      "the log was not replayed, so the regions below are checked as the file stands",
      "log",
      header!.logOffset,
      0,
    );
  }
  if (rt.metadataRegion) {
    step(0.35, "metadata");
    const params = await checkMetadata(ctx, rt.metadataRegion);
    if (params && rt.batRegion) {
      batOffset = rt.batRegion.fileOffset;
      step(0.4, "BAT");
      await checkBat(ctx, rt.batRegion, params, reg);
    } else if (params) {
      ctx.add(
        "info",
        "CHECK_INCOMPLETE",
        "the BAT was not checked: no region table locates it",
        "region table",
        REGION_TABLE_OFFSETS[0],
        0,
      );
    }
  } else {
    ctx.add(
      "info",
      "CHECK_INCOMPLETE",
      "the metadata and the BAT were not checked: no region table locates them",
      "region table",
      REGION_TABLE_OFFSETS[0],
      0,
    );
  }
  step(0.85, "overlaps");
  checkOverlaps(ctx, reg, batOffset);
  if (opts.space !== false && hs.current >= 0 && rt.used >= 0) checkSpace(ctx, reg);
  step(1, "done");
}
