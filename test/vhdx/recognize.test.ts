/**
 * The recogniser on hand-built headers: each format's signature written at the offset its own
 * documentation gives, and what the file is said to be.
 */
import { describe, expect, it } from "vitest";
import { describeSignature, notVhdxMessage, recognizeFormat, RECOGNIZE_HEAD_SIZE } from "../../src/vhdx/recognize";

const head = () => new Uint8Array(RECOGNIZE_HEAD_SIZE);
const put = (b: Uint8Array, at: number, bytes: string | number[]) =>
  b.set(typeof bytes === "string" ? Array.from(bytes, (c) => c.charCodeAt(0)) : bytes, at);
const none = new Uint8Array(0);
const SIZE = 8 * 1024 * 1024;

describe("recognizeFormat", () => {
  it("a VHD: the footer copy at 0 (dynamic) with its disk type, or the footer at the end (fixed)", () => {
    const h = head();
    put(h, 0, "conectix");
    put(h, 60, [0, 0, 0, 3]);
    expect(recognizeFormat(h, none, SIZE)).toMatchObject({ kind: "vhd", what: "a VHD (Virtual PC) disk (dynamic)" });
    const tail = new Uint8Array(512);
    put(tail, 0, "conectix");
    put(tail, 60, [0, 0, 0, 2]);
    expect(recognizeFormat(head(), tail, SIZE)).toMatchObject({ kind: "vhd", what: "a VHD (Virtual PC) disk (fixed)" });
    // A 511-byte footer (older Virtual PC) ends the file one byte later.
    const short = new Uint8Array(512);
    put(short, 1, "conectix");
    put(short, 61, [0, 0, 0, 4]);
    expect(recognizeFormat(head(), short, SIZE)?.what).toBe("a VHD (Virtual PC) disk (differencing)");
  });

  it("qcow2, VMDK (sparse and descriptor), VDI", () => {
    const q = head();
    put(q, 0, [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]);
    expect(recognizeFormat(q, none, SIZE)?.what).toBe("a QEMU qcow2 disk (version 3)");
    const v = head();
    put(v, 0, "KDMV");
    expect(recognizeFormat(v, none, SIZE)?.kind).toBe("vmdk");
    const d = head();
    put(d, 0, "# Disk DescriptorFile\nversion=1\n");
    expect(recognizeFormat(d, none, SIZE)?.what).toMatch(/VMDK descriptor/);
    const vdi = head();
    put(vdi, 0x40, [0x7f, 0x10, 0xda, 0xbe]);
    expect(recognizeFormat(vdi, none, SIZE)?.kind).toBe("vdi");
  });

  it("raw disks: GPT (512 and 4096-byte sectors) before its protective MBR, MBR, and file systems at byte 0", () => {
    const gpt = head();
    put(gpt, 510, [0x55, 0xaa]);
    put(gpt, 512, "EFI PART");
    expect(recognizeFormat(gpt, none, SIZE)?.what).toBe(
      "a raw disk image with a GPT partition table (512-byte sectors)",
    );
    const gpt4k = head();
    put(gpt4k, 510, [0x55, 0xaa]);
    put(gpt4k, 4096, "EFI PART");
    expect(recognizeFormat(gpt4k, none, SIZE)?.what).toMatch(/4096-byte sectors/);
    const mbr = head();
    put(mbr, 510, [0x55, 0xaa]);
    expect(recognizeFormat(mbr, none, SIZE)?.kind).toBe("mbr");
    const fat = head();
    put(fat, 54, "FAT16   ");
    put(fat, 510, [0x55, 0xaa]);
    expect(recognizeFormat(fat, none, SIZE)?.what).toMatch(/a FAT16 file system/);
    const fat32 = head();
    put(fat32, 82, "FAT32   ");
    put(fat32, 510, [0x55, 0xaa]);
    expect(recognizeFormat(fat32, none, SIZE)?.kind).toBe("fat");
    const ntfs = head();
    put(ntfs, 3, "NTFS    ");
    put(ntfs, 510, [0x55, 0xaa]);
    expect(recognizeFormat(ntfs, none, SIZE)?.kind).toBe("ntfs");
    const exfat = head();
    put(exfat, 3, "EXFAT   ");
    expect(recognizeFormat(exfat, none, SIZE)?.kind).toBe("exfat");
    const ext = head();
    put(ext, 1024 + 0x38, [0x53, 0xef]);
    expect(recognizeFormat(ext, none, SIZE)?.what).toMatch(/ext2\/3\/4/);
    const iso = head();
    put(iso, 0x8001, "CD001");
    expect(recognizeFormat(iso, none, SIZE)?.kind).toBe("iso");
  });

  it("compressed files, an empty file, and nothing recognised", () => {
    expect(recognizeFormat(Uint8Array.of(0x1f, 0x8b, 8, 0), none, 100)?.kind).toBe("gzip");
    expect(recognizeFormat(Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0), none, 100)?.kind).toBe("xz");
    expect(recognizeFormat(Uint8Array.of(0x50, 0x4b, 3, 4), none, 100)?.kind).toBe("zip");
    expect(recognizeFormat(none, none, 0)?.kind).toBe("empty");
    expect(recognizeFormat(head(), new Uint8Array(512), SIZE)).toBeNull();
    // A FAT signature without the boot sector's 0x55AA is not enough.
    const h = head();
    put(h, 54, "FAT16   ");
    expect(recognizeFormat(h, none, SIZE)).toBeNull();
  });
});

describe("the message", () => {
  it("says what the file is and how to convert it, never escaped bytes", () => {
    const h = head();
    put(h, 0, "conectix");
    put(h, 60, [0, 0, 0, 3]);
    const m = notVhdxMessage(h, none, SIZE);
    expect(m).toMatch(
      /^this is a VHD \(Virtual PC\) disk \(dynamic\), not a VHDX file — convert it with `vhdx convert/,
    );
    expect(notVhdxMessage(head(), none, SIZE)).toBe(
      'not a VHDX file: it starts with 8 zero bytes where a VHDX starts with "vhdxfile"',
    );
    const odd = Uint8Array.of(1, 2, 3, 0xff, 0, 0, 0, 9);
    expect(notVhdxMessage(odd, none, 8)).toMatch(/starts with 01 02 03 ff 00 00 00 09 /);
    expect(describeSignature(new TextEncoder().encode("hello wo"))).toBe('"hello wo" (68 65 6c 6c 6f 20 77 6f)');
  });
});
