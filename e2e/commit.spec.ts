/**
 * The editor's Commit in real Chromium: a virtual-disk patch and a structure patch go through the
 * engine worker onto an OPFS image that qemu-img made; the file is read back in Node and checked
 * with qemu-img (no errors, virtual bytes as patched).
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Harness } from "./harness";

declare global {
  interface Window {
    harness: Harness;
  }
}

let dir = "";
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-commit-"));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("commitPatch: copy-on-write patch and a metadata patch land atomically; qemu-img agrees", async ({ page }) => {
  const p = join(dir, "c.vhdx");
  execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", p, "32M"]);
  execFileSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x11 0 2M", p], { stdio: "ignore" });
  await page.route("**/__fixtures/*", (route) =>
    route.fulfill({ status: 200, body: readFileSync(p), contentType: "application/octet-stream" }),
  );
  await page.goto("/e2e/harness.html");
  await expect(page.locator("#status")).toHaveText("ready");
  await page.evaluate(() => window.harness.clearOpfs());
  const r = await page.evaluate(async () => {
    const h = window.harness;
    await h.putOpfs("work/c.vhdx", "/__fixtures/c.vhdx");
    const engine = h.createEngineClient();
    const opened = await engine.open({ kind: "opfs", path: "work/c.vhdx" });
    const M = 1024 * 1024;
    const patch = [
      { space: "virtual" as const, offset: M - 2, data: new Uint8Array(4).fill(0xab) },
      { space: "virtual" as const, offset: 20 * M + 5, data: new Uint8Array(100).fill(0xcd) },
    ];
    const cost = await engine.call("patchCost", [patch]);
    const result = await engine.call("commitPatch", [patch]);
    const info = await engine.info();
    const idItem = info.metadata.find((m) => m.name === "Virtual Disk ID")!;
    const metaRegion = info.regions.find((x) => x.name === "metadata")!;
    const refused = await engine.call("patchCost", [[{ space: "file" as const, offset: 10, data: new Uint8Array(1) }]]);
    await engine.call("commitPatch", [
      [{ space: "file" as const, offset: metaRegion.fileOffset + idItem.offset, data: new Uint8Array(16).fill(0x42) }],
    ]);
    const after = await engine.info();
    const virtual = [...(await engine.read("virtual", M - 4, 8))];
    await engine.close();
    engine.terminate();
    return {
      opened,
      cost,
      result,
      refused: refused.refused,
      id: after.virtualDiskId,
      virtual,
      file: await h.opfsBase64("work/c.vhdx"),
    };
  });
  expect(r.opened.readOnly).toBe(false);
  expect(r.cost).toMatchObject({ blocksCopied: 2, blocksAllocated: 1, refused: null });
  expect(r.result).toMatchObject({ blocksCopied: 2, blocksAllocated: 1 });
  expect(r.refused).toMatch(/never written/);
  expect(r.id).toBe("42424242-4242-4242-4242-424242424242");
  expect(r.virtual).toEqual([0x11, 0x11, 0xab, 0xab, 0xab, 0xab, 0x11, 0x11]);

  const out = join(dir, "after.vhdx");
  writeFileSync(out, Buffer.from(r.file, "base64"));
  execFileSync("qemu-img", ["check", "-f", "vhdx", out]);
  execFileSync("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", out, out + ".raw"]);
  const raw = readFileSync(out + ".raw");
  expect([...raw.subarray(1024 * 1024 - 4, 1024 * 1024 + 4)]).toEqual([0x11, 0x11, 0xab, 0xab, 0xab, 0xab, 0x11, 0x11]);
  expect(raw.subarray(20 * 1024 * 1024 + 5, 20 * 1024 * 1024 + 105).every((b) => b === 0xcd)).toBe(true);
  expect(raw.subarray(2 * 1024 * 1024, 20 * 1024 * 1024).every((b) => b === 0)).toBe(true);
});
