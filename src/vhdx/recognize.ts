/**
 * What a file that is not a VHDX is, told by its signatures: other virtual disk formats (VHD,
 * qcow2, VMDK, VDI), raw disks (a GPT or MBR partition table, or a file system starting at byte 0),
 * and compressed archives. Pure: it judges the bytes it is handed, the file's first bytes and its
 * last 512, and reads nothing itself. Each signature comes from the format's own documentation and
 * was checked against files made by qemu-img, mkfs and the archivers.
 */
import { ascii } from "./bytes";

/** How many bytes from the file's start `recognizeFormat` looks at (an ISO 9660 volume descriptor at 32 KiB is the farthest). */
export const RECOGNIZE_HEAD_SIZE = 36 * 1024;
/** How many bytes from the file's end: a VHD footer. */
export const RECOGNIZE_TAIL_SIZE = 512;

export type RecognizedKind =
  | "vhd"
  | "qcow"
  | "vmdk"
  | "vdi"
  | "iso"
  | "gpt"
  | "mbr"
  | "ext"
  | "ntfs"
  | "exfat"
  | "fat"
  | "gzip"
  | "xz"
  | "zstd"
  | "zip"
  | "7z"
  | "empty";

export interface Recognized {
  kind: RecognizedKind;
  /** The file as a person would name it: "a VHD (Virtual PC) disk (dynamic)". */
  what: string;
  /** What to do with it instead, one sentence. */
  advice: string;
}

const VHD_COOKIE = "conectix";
const VHD_DISK_TYPES: Record<number, string> = { 2: "fixed", 3: "dynamic", 4: "differencing" };
const RAW_ADVICE =
  "convert it into a VHDX with `vhdx convert <file> <file>.vhdx` or the editor's Convert → raw into VHDX";

function u16le(b: Uint8Array, at: number): number {
  return at + 2 <= b.length ? b[at] | (b[at + 1] << 8) : -1;
}
function u32be(b: Uint8Array, at: number): number {
  return at + 4 <= b.length ? ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0 : -1;
}
function u32le(b: Uint8Array, at: number): number {
  return at + 4 <= b.length ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0 : -1;
}
function text(b: Uint8Array, at: number, length: number): string {
  return at + length <= b.length ? ascii(b, at, length) : "";
}
function startsWith(b: Uint8Array, bytes: readonly number[]): boolean {
  return b.length >= bytes.length && bytes.every((v, i) => b[i] === v);
}

/** A VHD footer (or its copy at the start of a dynamic VHD): the cookie, and the disk type at offset 60 (big-endian). */
function vhdFooter(b: Uint8Array, at: number): Recognized | null {
  if (text(b, at, 8) !== VHD_COOKIE) return null;
  const type = VHD_DISK_TYPES[u32be(b, at + 60)];
  return {
    kind: "vhd",
    what: `a VHD (Virtual PC) disk${type ? ` (${type})` : ""}`,
    advice:
      "convert it with `vhdx convert <file>.vhd <file>.vhdx` (the other commands — info, cat, check, ls, get — read it as it is)",
  };
}

function virtualDisk(head: Uint8Array): Recognized | null {
  if (startsWith(head, [0x51, 0x46, 0x49, 0xfb])) {
    const version = u32be(head, 4);
    return {
      kind: "qcow",
      what: version === 1 ? "a QEMU qcow disk (version 1)" : `a QEMU qcow2 disk (version ${version})`,
      advice: "convert it with `qemu-img convert -f qcow2 -O vhdx <file> <file>.vhdx`",
    };
  }
  const vmdkSparse = text(head, 0, 4) === "KDMV" || text(head, 0, 4) === "COWD";
  if (vmdkSparse || text(head, 0, 21) === "# Disk DescriptorFile") {
    return {
      kind: "vmdk",
      what: vmdkSparse
        ? "a VMware VMDK disk (sparse extent)"
        : "a VMware VMDK descriptor (a text file naming the disk's extents)",
      advice: "convert it with `qemu-img convert -f vmdk -O vhdx <file>.vmdk <file>.vhdx`",
    };
  }
  // VirtualBox: a text banner, then the signature 0xBEDA107F (little-endian) at 0x40.
  if (u32le(head, 0x40) === 0xbeda107f) {
    return {
      kind: "vdi",
      what: "a VirtualBox VDI disk",
      advice:
        "convert it with `qemu-img convert -f vdi -O vhdx <file>.vdi <file>.vhdx` or `VBoxManage clonemedium --format VHDX`",
    };
  }
  return null;
}

function archive(head: Uint8Array): Recognized | null {
  const compressed = (kind: RecognizedKind, name: string, tool: string): Recognized => ({
    kind,
    what: `a ${name} file`,
    advice: `${tool} it first and open what comes out`,
  });
  if (startsWith(head, [0x1f, 0x8b])) return compressed("gzip", "gzip-compressed", "decompress (`gunzip`)");
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))
    return compressed("xz", "xz-compressed", "decompress (`unxz`)");
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return compressed("zstd", "zstd-compressed", "decompress (`unzstd`)");
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return compressed("zip", "ZIP archive", "extract");
  if (startsWith(head, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return compressed("7z", "7-Zip archive", "extract");
  return null;
}

/** A file system whose boot sector or superblock lies at byte 0 of the file (a partition image, or a WSL-style whole-disk ext4). */
function fileSystem(head: Uint8Array): Recognized | null {
  const raw = (kind: RecognizedKind, name: string): Recognized => ({
    kind,
    what: `a raw disk image holding ${name} file system from its first byte`,
    advice: RAW_ADVICE,
  });
  if (text(head, 3, 8) === "NTFS    ") return raw("ntfs", "an NTFS");
  if (text(head, 3, 8) === "EXFAT   ") return raw("exfat", "an exFAT");
  const bootSignature = u16le(head, 510) === 0xaa55;
  if (bootSignature && (text(head, 54, 5) === "FAT12" || text(head, 54, 5) === "FAT16")) {
    return raw("fat", `a ${text(head, 54, 5)}`);
  }
  if (bootSignature && text(head, 82, 5) === "FAT32") return raw("fat", "a FAT32");
  // ext2/3/4: the superblock at 1024, s_magic 0xEF53 at its offset 0x38.
  if (u16le(head, 1024 + 0x38) === 0xef53) return raw("ext", "an ext2/3/4");
  if (text(head, 0x8001, 5) === "CD001") {
    return {
      kind: "iso",
      what: "an ISO 9660 (CD/DVD) image",
      advice: "it is not a hard disk image; attach it to a VM as a DVD drive instead",
    };
  }
  return null;
}

function partitionTable(head: Uint8Array): Recognized | null {
  for (const sector of [512, 4096]) {
    if (text(head, sector, 8) === "EFI PART") {
      return {
        kind: "gpt",
        what: `a raw disk image with a GPT partition table (${sector}-byte sectors)`,
        advice: RAW_ADVICE,
      };
    }
  }
  if (u16le(head, 510) === 0xaa55) {
    return { kind: "mbr", what: "a raw disk image with an MBR partition table", advice: RAW_ADVICE };
  }
  return null;
}

/**
 * What the file is, when it is not a VHDX; null when nothing is recognised. `head` is the file's
 * first bytes (up to RECOGNIZE_HEAD_SIZE, fewer when the file is shorter), `tail` its last 512
 * bytes (empty when the file is shorter than that). Formats with a signature of their own come
 * first; partition tables and file systems last, since a VHD fixed disk is a raw disk plus a footer.
 */
export function recognizeFormat(head: Uint8Array, tail: Uint8Array, fileSize: number): Recognized | null {
  if (fileSize === 0) return { kind: "empty", what: "an empty file (0 bytes)", advice: "there is nothing to open" };
  const found =
    vhdFooter(head, 0) ??
    (tail.length >= 512 ? (vhdFooter(tail, 0) ?? vhdFooter(tail, 1)) : null) ??
    virtualDisk(head) ??
    archive(head) ??
    partitionTable(head.subarray(0, 4096 + 512)) ??
    fileSystem(head);
  // An MBR whose first sector is also a file system's boot sector is that file system (FAT, NTFS).
  if (found?.kind === "mbr") return fileSystem(head) ?? found;
  return found;
}

/** The first bytes of a file that is not recognised, shown as hex (never as escaped characters). */
export function describeSignature(head: Uint8Array, count = 8): string {
  const bytes = Array.from(head.subarray(0, count), (b) => b.toString(16).padStart(2, "0")).join(" ");
  const printable = head.length >= count && Array.from(head.subarray(0, count)).every((b) => b >= 0x20 && b < 0x7f);
  if (head.length === 0) return "no bytes";
  if (head.subarray(0, count).every((b) => b === 0)) return `${Math.min(count, head.length)} zero bytes`;
  return printable ? `"${ascii(head, 0, count)}" (${bytes})` : bytes;
}

/** One sentence for a file that is not a VHDX: what it is and what to do, or its first bytes. */
export function notVhdxMessage(head: Uint8Array, tail: Uint8Array, fileSize: number): string {
  const found = recognizeFormat(head, tail, fileSize);
  if (found) return `this is ${found.what}, not a VHDX file — ${found.advice}`;
  return `not a VHDX file: it starts with ${describeSignature(head)} where a VHDX starts with "vhdxfile"`;
}
