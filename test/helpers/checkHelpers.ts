import { expect } from "vitest";
import { checkImage, CheckReport } from "../../src/vhdx/check";
import type { CheckCode, Finding, Severity } from "../../src/vhdx/check";
import { MemoryBackend } from "../../src/vhdx/io";

/** Checks `bytes` through a backend that refuses every write. */
export async function check(bytes: Uint8Array): Promise<CheckReport> {
  return checkImage(new MemoryBackend(bytes, { readOnly: true }));
}

/** Asserts one finding with this code (and, when given, severity and offset) and returns it. */
export function expectFinding(r: CheckReport, code: CheckCode, severity?: Severity, offset?: number): Finding {
  const all = r.findings.filter((f) => f.code === code);
  expect(all.length, `no ${code} in ${JSON.stringify(r.findings.map((f) => f.code))}`).toBeGreaterThan(0);
  const f = all.find(
    (x) => (severity === undefined || x.severity === severity) && (offset === undefined || x.offset === offset),
  );
  expect(f, `${code} findings: ${JSON.stringify(all)}`).toBeDefined();
  expect(f!.structure.length).toBeGreaterThan(0);
  expect(f!.message.length).toBeGreaterThan(0);
  return f!;
}

export function codes(r: CheckReport): string[] {
  return [...new Set(r.findings.map((f) => f.code))].sort();
}
