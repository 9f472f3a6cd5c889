/**
 * The findings as the panel lists them: errors and warnings one by one, notes (info) with the same
 * code as one group ("REGION_NOT_REQUIRED × 2"), each member still with its own message and place.
 */
import type { Finding } from "../store/engineApi";

export interface FindingGroup {
  severity: Finding["severity"];
  code: string;
  findings: Finding[];
}

const RANK = { error: 0, warning: 1, info: 2 } as const;

/** Sorted by severity (errors first); within a severity in the checker's order. */
export function groupFindings(findings: readonly Finding[]): FindingGroup[] {
  const sorted = [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity]);
  const groups: FindingGroup[] = [];
  const infoByCode = new Map<string, FindingGroup>();
  for (const f of sorted) {
    if (f.severity === "info") {
      const group = infoByCode.get(f.code);
      if (group) {
        group.findings.push(f);
        continue;
      }
      const fresh = { severity: f.severity, code: f.code, findings: [f] };
      infoByCode.set(f.code, fresh);
      groups.push(fresh);
      continue;
    }
    groups.push({ severity: f.severity, code: f.code, findings: [f] });
  }
  return groups;
}
