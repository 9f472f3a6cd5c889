/**
 * Runs once before all test files: bundles the `vhdx` command so CLI tests run the real thing,
 * and under CI=true makes sure the peer tools are there, so interop tests can never vanish silently.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findTool, isCI, missingToolMessage } from "./helpers/tools";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function buildAndCheckTools(): void {
  // `npm test` has just built it (and says so); a lone `npx vitest run` builds it here.
  if (process.env.VHDX_CLI_BUILT !== "1") {
    const r = spawnSync(process.execPath, [resolve(root, "scripts/build-cli.mjs")], { cwd: root, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`building the CLI bundle failed:\n${r.stderr}${r.stdout}`);
  }

  const peers = ["qemu-img", "qemu-io", "vhdiinfo"];
  const missing = peers.filter((t) => !findTool(t));
  if (missing.length === 0) return;
  const why = missing.map(missingToolMessage).join("\n  ");
  if (isCI) throw new Error(`CI=true and peer tools are missing:\n  ${why}`);
  console.warn(`Peer tools missing; interop tests will be skipped:\n  ${why}`);
}

export default function setup(): () => void {
  buildAndCheckTools();
  return teardown;
}

/** The file-system fixtures this run built (test/fs/fatFixtures.ts, keyed by this process) go with it. */
function teardown(): void {
  for (const name of readdirSync(tmpdir()))
    if (name.startsWith("vhdx-fat-fixtures-") && name.endsWith(`-${process.pid}`))
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
}
