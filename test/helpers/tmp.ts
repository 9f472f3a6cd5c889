/** One temp folder per test file under os.tmpdir(), removed when the file's tests end. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

export interface TempDir {
  readonly dir: string;
  /** A path inside the folder (not created). */
  path(name: string): string;
}

/** Call at the top level of a test file (or inside a describe): the folder lives until afterAll. */
export function useTempDir(prefix = "vhdx-test-"): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, path: (name: string) => join(dir, name) };
}

/** A temp folder the caller removes itself (for code outside a test file's lifecycle). */
export function makeTempDir(prefix = "vhdx-"): TempDir & { remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name: string) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
