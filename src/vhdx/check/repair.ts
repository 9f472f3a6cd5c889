import { hex, VhdxError } from "../errors";
import { HEADER_OFFSETS, HEADER_SIZE } from "../header";
import { RandomAccess } from "../io";
import { HeaderUpdater, LogWriter, replayLogInPlace, scanLog } from "../log";
import { REGION_TABLE_OFFSETS, REGION_TABLE_SIZE } from "../regionTable";
import { checkImage, CheckReport } from "./index";

/** One file range a repair wrote. */
export interface RepairWrite {
  offset: number;
  length: number;
  what: string;
}

export interface RepairAction {
  code: "LOG_REPLAYED" | "HEADER_REWRITTEN" | "REGION_TABLE_REWRITTEN";
  description: string;
  writes: RepairWrite[];
}

export interface RepairResult {
  actions: RepairAction[];
  /** Findings left alone, and why. */
  skipped: string[];
}

const HEADER_WRITES: RepairWrite[] = [
  { offset: HEADER_OFFSETS[0], length: HEADER_SIZE, what: "header 1" },
  { offset: HEADER_OFFSETS[1], length: HEADER_SIZE, what: "header 2" },
];

/**
 * The safe repairs, each through the protocol the spec gives for that structure, in this order
 * (each step re-checks the file first, so later steps see the earlier ones' result):
 * 1. a log that needs replay is replayed (§2.3.3), which also ends with both headers rewritten;
 * 2. a damaged header is rewritten from the current one (§2.2.2.1: both slots, SequenceNumber + 1);
 * 3. a damaged region table copy is rewritten from the valid one through the log (§2.2.3).
 * Nothing else is touched: every other finding needs a person's judgement.
 */
export async function repairImage(io: RandomAccess, report: CheckReport): Promise<RepairResult> {
  if (io.readOnly) throw new VhdxError("READ_ONLY", "repairs need the file opened for writing", "file");
  const actions: RepairAction[] = [];
  const skipped: string[] = [];
  let r = report;

  if (r.state.currentHeader === -1) {
    return { actions, skipped: ["no valid header: there is nothing trustworthy to repair from"] };
  }
  // A file cut short is missing more than any repair can restore; writing into it would only hide that.
  if (r.findings.some((f) => f.code === "FILE_TRUNCATED")) {
    return { actions, skipped: ["the file is shorter than its header section (FILE_TRUNCATED): nothing is repaired"] };
  }
  if (r.state.logNeedsReplay || r.state.logGuidWithoutSequence) {
    if (r.state.logTruncated) {
      skipped.push("the log cannot be replayed: the file is shorter than the log's recorded size (LOG_FILE_TRUNCATED)");
    } else {
      const updater = await HeaderUpdater.load(io);
      const scan = await scanLog(io, updater.current);
      const writes: RepairWrite[] = [...HEADER_WRITES];
      for (const e of scan.active?.entries ?? []) {
        for (const d of e.descriptors)
          if (d.fileOffset !== null && d.length > 0)
            writes.push({ offset: d.fileOffset, length: d.length, what: `${d.type} descriptor` });
      }
      const res = await replayLogInPlace(updater, scan);
      if (res.sizeAfter > res.sizeBefore)
        writes.push({ offset: res.sizeBefore, length: res.sizeAfter - res.sizeBefore, what: "file growth" });
      const what = scan.active
        ? `replayed the log (${res.entries} ${res.entries === 1 ? "entry" : "entries"}, ${res.descriptors} descriptor${res.descriptors === 1 ? "" : "s"})`
        : "marked the log empty (LogGuid set but no valid sequence)";
      actions.push({ code: "LOG_REPLAYED", description: what, writes });
      r = await checkImage(io);
    }
  }

  const [h1, h2] = r.state.headerValid;
  if (r.state.currentHeader !== -1 && h1 !== h2 && !r.state.logNeedsReplay) {
    const bad = h1 ? 2 : 1;
    const updater = await HeaderUpdater.load(io);
    // §2.2.2.1: the update writes the non-current (damaged) slot first, then the other one again.
    await updater.update();
    actions.push({
      code: "HEADER_REWRITTEN",
      description: `rewrote header ${bad} from header ${3 - bad} through the header update protocol`,
      writes: [...HEADER_WRITES],
    });
    r = await checkImage(io);
  }

  const [t1, t2] = r.state.regionTableValid;
  if (t1 !== t2 && r.state.currentHeader !== -1 && !r.state.logNeedsReplay) {
    const good = t1 ? 0 : 1;
    const bad = 1 - good;
    const updater = await HeaderUpdater.load(io);
    const { logOffset, logLength } = updater.current;
    if (logLength === 0) {
      skipped.push(`region table ${bad + 1} is damaged but the file has no log to rewrite it through`);
    } else if (logOffset + logLength > (await io.size())) {
      // Writing the log would grow the file over whatever should have been there.
      skipped.push(`region table ${bad + 1} is damaged but the log lies past the end of the file (LOG_BEYOND_EOF)`);
    } else {
      const bytes = await io.read(REGION_TABLE_OFFSETS[good], REGION_TABLE_SIZE);
      const writer = new LogWriter(updater);
      const info = await writer.commit([{ fileOffset: REGION_TABLE_OFFSETS[bad], data: bytes }]);
      await writer.markLogEmpty();
      actions.push({
        code: "REGION_TABLE_REWRITTEN",
        description: `rewrote region table ${bad + 1} from region table ${good + 1} through the log`,
        writes: [
          ...HEADER_WRITES,
          { offset: info.entryFileOffset, length: info.entryLength, what: "log entry" },
          { offset: REGION_TABLE_OFFSETS[bad], length: REGION_TABLE_SIZE, what: `region table ${bad + 1}` },
        ],
      });
      r = await checkImage(io);
    }
  } else if (r.state.regionTableMismatch) {
    skipped.push("the two region table copies are valid but differ: which one is right cannot be known safely");
  }
  for (const f of r.findings) {
    if (f.severity === "error") skipped.push(`${f.code} at ${hex(f.offset)}: no safe automatic repair`);
  }
  return { actions, skipped };
}
