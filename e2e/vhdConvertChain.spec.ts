/**
 * A differencing VHD in the Convert dialog: the child (laid out by hand — QEMU makes no
 * differencing VHD) over a base qemu-img made and qemu-io wrote. The dialog names the parent it
 * needs, refuses a disk that is not it, then converts flattened (one VHDX) and kept as a chain
 * (two VHDX files in browser storage). Every output is read outside the browser and compared with
 * the chain's bytes built independently: qemu's read of the base with the child's own sectors laid
 * over it.
 */
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDynamicVhd, writeVhd } from "../test/helpers/buildVhd";
import { fromOpfs, toOpfs } from "./opfsFiles";
import { opfsHash, stubPickers, willPick } from "./pickerStubs";

const MiB = 1024 * 1024;
let dir = "";
test.beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "vhdx-e2e-vhdchain-"))));
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => execFileSync("node", ["bin/vhdx.cjs", ...args], { maxBuffer: 64 * MiB });

test("a differencing VHD converts flattened and kept as a VHDX chain", async ({ page }) => {
  test.setTimeout(180_000);
  const base = join(dir, "base.vhd");
  execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", base, "8M"]);
  execFileSync("qemu-io", ["-f", "vpc", "-c", "write -P 0x5a 0 4M", "-c", "write -P 0x77 6M 64k", base], {
    stdio: "ignore",
  });
  const b = JSON.parse(cli("info", base, "--json").toString()) as {
    virtualSize: number;
    footer: { uniqueId: string; timeStamp: number };
  };
  // The child holds: block 0's first 8 sectors (0xc3), all of block 2 (0x3c), and sectors 16–31
  // of block 3 as zeros (held zeros hide the parent's 0x77 there).
  const child = join(dir, "child.vhd");
  const held = [
    { block: 0, present: (s: number) => s < 8, data: new Uint8Array(2 * MiB).fill(0xc3) },
    { block: 2, present: () => true, data: new Uint8Array(2 * MiB).fill(0x3c) },
    { block: 3, present: (s: number) => s >= 16 && s < 32, data: new Uint8Array(2 * MiB) },
  ];
  writeVhd(
    child,
    buildDynamicVhd({
      size: b.virtualSize,
      uniqueId: "0badc0de-1111-2222-3333-444455556666",
      parent: {
        uniqueId: b.footer.uniqueId,
        timeStamp: b.footer.timeStamp,
        name: "base.vhd",
        locators: [{ code: "W2ru", path: ".\\base.vhd" }],
      },
      blocks: held,
    }),
  );
  const other = join(dir, "other.vhd");
  execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic", other, "8M"]);

  // The chain's bytes: the base as qemu reads it, the child's own sectors over it.
  const baseRaw = join(dir, "base.raw");
  execFileSync("qemu-img", ["convert", "-f", "vpc", "-O", "raw", base, baseRaw]);
  const expected = readFileSync(baseRaw).subarray(0, b.virtualSize);
  for (const h of held)
    for (let s = 0; s < (2 * MiB) / 512; s++)
      if (h.present(s)) expected.set(h.data.subarray(s * 512, s * 512 + 512), h.block * 2 * MiB + s * 512);
  // Our CLI reads the VHD chain (its parent found through the locator) as those bytes.
  expect(cli("cat", child).equals(expected)).toBe(true);

  await stubPickers(page, { "child.vhd": child, "base.vhd": base, "other.vhd": other });
  await page.getByRole("button", { name: "Convert" }).click();
  const d = page.getByRole("dialog", { name: "Convert" });
  await d.getByRole("radio", { name: "VHD → VHDX" }).click();
  await willPick(page, "child.vhd");
  await d.getByRole("button", { name: "Choose VHD…" }).click();
  await expect(d.getByLabel("Chosen VHD")).toHaveText("child.vhd");
  await expect(d.getByLabel("Disk type of the VHD")).toContainText("differencing");
  const need = d.getByRole("region", { name: "VHD parent needed" });
  await expect(need.getByLabel("Parent needed")).toContainText("base.vhd");
  await expect(need.getByLabel("Parent needed")).toContainText(b.footer.uniqueId);
  await expect(d.getByText("To start, choose the parent of the differencing VHD.")).toBeVisible();

  // Not the parent: refused, naming the id the child needs.
  await willPick(page, "other.vhd");
  await need.getByRole("button", { name: "Choose parent…" }).click();
  await expect(d.getByRole("alert")).toContainText(`the child names ${b.footer.uniqueId}`);
  await willPick(page, "base.vhd");
  await need.getByRole("button", { name: "Choose parent…" }).click();
  await expect(need.getByRole("status", { name: "VHD chain" })).toContainText(b.footer.uniqueId);

  // Flattened (the default): one dynamic VHDX.
  await d.getByLabel("Output name").fill("flat");
  await d.getByRole("button", { name: "Convert", exact: true }).click();
  await expect(d.getByText("Convert: done.")).toBeVisible();
  const flat = await fromOpfs(page, "toolbox/flat.vhdx", join(dir, "flat.vhdx"));
  const flatRaw = join(dir, "flat.raw");
  execFileSync("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", flat, flatRaw]);
  expect(readFileSync(flatRaw).equals(expected)).toBe(true);
  expect(cli("cat", flat).equals(expected)).toBe(true);

  // Kept as a chain, while a base.vhdx is already in browser storage: refused before anything is written.
  await toOpfs(page, "toolbox/base.vhdx", other);
  const taken = await opfsHash(page, "toolbox/base.vhdx");
  await need.getByLabel("Keep as a differencing chain").check();
  await d.getByLabel("Output name").fill("kept");
  await expect(d.getByLabel("Chain outputs")).toHaveText("Written, base first: base.vhdx, kept.vhdx.");
  await d.getByRole("button", { name: "Convert", exact: true }).click();
  await expect(d.getByText("toolbox/base.vhdx already exists")).toBeVisible();
  for (const p of ["kept.vhdx", "kept.vhdx.partial", "base.vhdx.partial"])
    expect(await opfsHash(page, `toolbox/${p}`)).toBeNull();
  expect(await opfsHash(page, "toolbox/base.vhdx")).toBe(taken);

  // Once the name is free: base.vhdx and the differencing kept.vhdx over it, which then opens.
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    await (await root.getDirectoryHandle("toolbox")).removeEntry("base.vhdx");
  });
  await d.getByRole("button", { name: "Convert", exact: true }).click();
  // The child opens in the editor, asking for its parent.
  await expect(page.getByRole("dialog", { name: "Differencing chain" })).toBeVisible();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText("kept.vhdx");
  const out = join(dir, "kept");
  mkdirSync(out);
  const keptBase = await fromOpfs(page, "toolbox/base.vhdx", join(out, "base.vhdx"));
  const kept = await fromOpfs(page, "toolbox/kept.vhdx", join(out, "kept.vhdx"));
  const info = JSON.parse(cli("info", kept, "--json").toString()) as { diskType: string };
  expect(info.diskType).toBe("differencing");
  // Read through its parent, found beside it by the relative locator.
  expect(cli("cat", kept).equals(expected)).toBe(true);
  for (const f of [keptBase, kept]) {
    const c = JSON.parse(cli("check", f, "--json").toString()) as { ok: boolean; findings: { severity: string }[] };
    expect(c.ok).toBe(true);
    expect(c.findings.filter((x) => x.severity !== "info")).toEqual([]);
  }
  execFileSync("qemu-img", ["compare", "-f", "vpc", "-F", "vhdx", base, keptBase]);
});
