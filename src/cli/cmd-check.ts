import { checkImage, CheckReport, Finding } from "../vhdx/check";
import { hex } from "../vhdx/errors";
import { NodeFileBackend } from "../node/fileBackend";
import { oneImage, ParsedArgs } from "./args";
import type { Io } from "./commands";
import { toJson } from "./format";
import { repairImage, RepairResult } from "../vhdx/check/repair";

/**
 * `vhdx check <image> [--json] [--repair]`: exit 0 when no finding is an error, 1 otherwise.
 * Without --repair the file is opened read-only, so nothing can be written.
 */
export async function checkCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "check");
  const vhd = await import("./vhdCommands");
  if (await vhd.isVhdFile(path)) return vhd.vhdCheckCommand(path, a, io);
  const json = a.flags.has("json");
  const repair = a.flags.has("repair");
  const file = await NodeFileBackend.open(path, { readOnly: !repair, lock: repair ? "exclusive" : "shared" });
  try {
    let report = await checkImage(file);
    let repairs: RepairResult | null = null;
    // Warnings can be repairable too (a damaged header copy beside a good one).
    if (repair && report.findings.some((f) => f.severity !== "info")) {
      repairs = await repairImage(file, report);
      if (repairs.actions.length > 0) report = await checkImage(file);
    }
    if (json) {
      const out: Record<string, unknown> = { ok: report.ok, findings: report.findings };
      if (repairs) {
        out.repairs = repairs.actions;
        out.notRepaired = repairs.skipped;
      }
      io.out(toJson(out) + "\n");
    } else {
      if (repairs) {
        for (const r of repairs.actions)
          io.out(
            `repaired: ${r.description} (wrote ${r.writes.map((w) => `${hex(w.length)} bytes at ${hex(w.offset)}`).join(", ")})\n`,
          );
        for (const s of repairs.skipped) io.out(`not repaired: ${s}\n`);
        if (repairs.actions.length > 0) io.out("after repair:\n");
      }
      io.out(formatReport(path, report));
    }
    return report.ok ? 0 : 1;
  } finally {
    await file.close();
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function formatReport(
  path: string,
  report: Pick<CheckReport, "ok"> & { findings: readonly (Omit<Finding, "code"> & { code: string })[] },
): string {
  const count = (s: Finding["severity"]) => report.findings.filter((f) => f.severity === s).length;
  const lines = report.findings.map(
    (f) => `${f.severity.padEnd(7)} ${f.code}: ${f.message} (${f.structure} at ${hex(f.offset)})`,
  );
  const summary = `${path}: ${report.ok ? "ok" : "damaged"} — ${plural(count("error"), "error")}, ${plural(count("warning"), "warning")}, ${plural(count("info"), "note")}`;
  return [...lines, summary].join("\n") + "\n";
}
