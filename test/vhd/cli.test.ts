/**
 * The `vhdx` command on VHDs made by qemu-img: info (against vhdiinfo and qemu-img info), cat
 * (against qemu-img's raw), ls and get on a FAT volume (against The Sleuth Kit's fls and icat,
 * which read the VHD themselves), check (clean, then with a damaged footer and copy).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../helpers/tmp";
import { missingTools, requireTool } from "../helpers/tools";
import { vhdiinfo } from "../helpers/vhdi";
import { qemuVpcInfo, qemuVpcToRaw } from "../helpers/vhd";
import { runOk } from "../helpers/run";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;
const tmp = useTempDir("vhd-cli-");

function vhdx(args: string[]) {
  const r = spawnSync(process.execPath, [VHDX, ...args], { encoding: "buffer", maxBuffer: 64 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe.skipIf(missingTools("qemu-img", "mkfs.fat", "mcopy", "fls", "icat", "vhdiinfo"))("vhdx on VHD files", () => {
  const raw = tmp.path("fat.raw");
  const text = "a file on a FAT volume inside a VHD\n".repeat(200);
  writeFileSync(raw, new Uint8Array(0));
  runOk("truncate", ["-s", "8M", raw]);
  runOk(requireTool("mkfs.fat"), [raw]);
  writeFileSync(tmp.path("note.txt"), text);
  runOk(requireTool("mcopy"), ["-i", raw, tmp.path("note.txt"), "::/NOTE.TXT"]);

  for (const subformat of ["dynamic", "fixed"] as const) {
    it(`${subformat}: info, cat, ls, get, check`, () => {
      const vhd = tmp.path(`fat-${subformat}.vhd`);
      runOk(requireTool("qemu-img"), ["convert", "-f", "raw", "-O", "vpc", "-o", `subformat=${subformat}`, raw, vhd]);
      const info = JSON.parse(vhdx(["info", "--json", vhd]).stdout.toString()) as {
        diskType: string;
        virtualSize: number;
      };
      expect(info.diskType).toBe(subformat);
      expect(info.virtualSize).toBe(qemuVpcInfo(vhd)["virtual-size"]);
      expect(info.virtualSize).toBe(vhdiinfo(vhd).mediaSize);
      const cat = vhdx(["cat", vhd]);
      expect(cat.status).toBe(0);
      expect(Buffer.compare(cat.stdout, qemuVpcToRaw(vhd))).toBe(0);
      const ls = vhdx(["ls", vhd, "/"]);
      expect(ls.status, ls.stderr).toBe(0);
      const fls = runOk(requireTool("fls"), ["-i", "vhd", vhd]).stdout;
      const inode = /r\/r (\d+):\s+NOTE\.TXT/i.exec(fls)?.[1];
      expect(inode).toBeDefined();
      expect(ls.stdout.toString()).toMatch(/NOTE\.TXT/i);
      const get = vhdx(["get", vhd, "/NOTE.TXT"]);
      expect(get.status, get.stderr).toBe(0);
      const icat = spawnSync(requireTool("icat"), ["-i", "vhd", vhd, inode!]).stdout;
      expect(Buffer.compare(get.stdout, icat)).toBe(0);
      expect(get.stdout.toString()).toBe(text);
      const check = vhdx(["check", vhd]);
      expect(check.status, check.stdout.toString()).toBe(0);
    });
  }

  it("check reports a damaged footer with its offset, and exits 1", () => {
    const vhd = tmp.path("fat-dynamic.vhd");
    const b = new Uint8Array(readFileSync(vhd));
    b[b.length - 512 + 100] ^= 1;
    b[100] ^= 1;
    const bad = tmp.path("bad.vhd");
    writeFileSync(bad, b);
    const r = vhdx(["check", bad]);
    expect(r.status).toBe(1);
    expect(r.stdout.toString()).toContain(`VHD_FOOTER_CHECKSUM`);
    expect(r.stdout.toString()).toContain(
      `footer at 0x${(b.length - 512 + 64).toString(16).replace(/(?=(?:[0-9a-f]{4})+$)(?!^)/g, "_")}`,
    );
    const c = vhdx(["cat", bad]);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/footer checksum/);
  });
});
