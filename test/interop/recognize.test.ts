/**
 * Files that are not VHDX, made by the tools that make them (qemu-img's vpc, qcow2, vmdk and vdi
 * drivers, mkfs, sgdisk, sfdisk): opening one says what it is, and `check` says the same.
 */
import { closeSync, openSync, ftruncateSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { checkImage } from "../../src/vhdx/check";
import { VhdxError } from "../../src/vhdx/errors";
import { openImage } from "../../src/vhdx/image";
import { runOk } from "../helpers/run";
import { missingTools, requireTool } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

const tmp = useTempDir("vhdx-recognize-");
const SIZE = 8 * 1024 * 1024;
const skip = missingTools("qemu-img", "mke2fs", "mkfs.fat", "mkntfs", "mkfs.exfat", "sgdisk", "sfdisk");

function sparse(name: string): string {
  const p = tmp.path(name);
  const fd = openSync(p, "w");
  ftruncateSync(fd, SIZE);
  closeSync(fd);
  return p;
}

async function openMessage(path: string): Promise<string> {
  const file = await NodeFileBackend.open(path);
  try {
    await openImage(file);
  } catch (e) {
    expect(e).toBeInstanceOf(VhdxError);
    expect((e as VhdxError).code).toBe("NOT_VHDX");
    expect((e as VhdxError).structure).toBe("file type identifier");
    const findings = (await checkImage(await NodeFileBackend.open(path))).findings;
    expect(findings.map((f) => [f.code, f.message])).toEqual([["NOT_VHDX", (e as VhdxError).message]]);
    return (e as VhdxError).message;
  } finally {
    await file.close();
  }
  throw new Error(`${path} opened as a VHDX`);
}

describe.skipIf(skip)("files that are not VHDX, made by their own tools", () => {
  const qemu = (format: string, name: string, ...opts: string[]) => {
    const p = tmp.path(name);
    runOk(requireTool("qemu-img"), ["create", "-q", "-f", format, ...opts, p, String(SIZE)]);
    return p;
  };

  it("qemu-img -O vpc (dynamic and fixed), qcow2, vmdk, vdi", async () => {
    expect(await openMessage(qemu("vpc", "d.vhd"))).toMatch(
      /^this is a VHD \(Virtual PC\) disk \(dynamic\), not a VHDX file — convert it with `vhdx convert /,
    );
    expect(await openMessage(qemu("vpc", "f.vhd", "-o", "subformat=fixed"))).toMatch(
      /^this is a VHD \(Virtual PC\) disk \(fixed\), not a VHDX file/,
    );
    expect(await openMessage(qemu("qcow2", "d.qcow2"))).toMatch(/^this is a QEMU qcow2 disk \(version 3\), not a VHDX/);
    expect(await openMessage(qemu("vmdk", "d.vmdk"))).toMatch(/^this is a VMware VMDK disk \(sparse extent\)/);
    expect(await openMessage(qemu("vdi", "d.vdi"))).toMatch(/^this is a VirtualBox VDI disk/);
  });

  it("raw disks: GPT by sgdisk, MBR by sfdisk, ext4, FAT, NTFS and exFAT by mkfs", async () => {
    const gpt = sparse("gpt.img");
    runOk(requireTool("sgdisk"), ["-n", "1:2048:0", gpt]);
    expect(await openMessage(gpt)).toMatch(/^this is a raw disk image with a GPT partition table \(512-byte sectors\)/);
    const mbr = sparse("mbr.img");
    runOk("sh", ["-c", `echo 'start=2048, type=83' | ${requireTool("sfdisk")} -q ${mbr}`]);
    expect(await openMessage(mbr)).toMatch(
      /^this is a raw disk image with an MBR partition table, not a VHDX file — convert it into a VHDX with `vhdx convert/,
    );
    const ext = sparse("ext4.img");
    runOk(requireTool("mke2fs"), ["-q", "-t", "ext4", "-F", ext]);
    expect(await openMessage(ext)).toMatch(/ext2\/3\/4 file system from its first byte/);
    const fat = sparse("fat.img");
    runOk(requireTool("mkfs.fat"), [fat]);
    expect(await openMessage(fat)).toMatch(/a FAT1[26] file system/);
    const fat32 = sparse("fat32.img");
    runOk(requireTool("mkfs.fat"), ["-F", "32", fat32]);
    expect(await openMessage(fat32)).toMatch(/a FAT32 file system/);
    const ntfs = sparse("ntfs.img");
    runOk(requireTool("mkntfs"), ["-q", "-F", "-Q", ntfs]);
    expect(await openMessage(ntfs)).toMatch(/an NTFS file system/);
    const exfat = sparse("exfat.img");
    runOk(requireTool("mkfs.exfat"), [exfat]);
    expect(await openMessage(exfat)).toMatch(/an exFAT file system/);
  });

  it("a file of zeros is not recognised and says so without escaped bytes", async () => {
    const msg = await openMessage(sparse("zeros.img"));
    expect(msg).toBe('not a VHDX file: it starts with 8 zero bytes where a VHDX starts with "vhdxfile"');
  });
});
