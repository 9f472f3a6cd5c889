/**
 * Finding the peer tools the interop tests compare against (QEMU, libvhdi, strace, gcc).
 * Under CI=true, and under `npm test` (which installs every tool first and sets VHDX_TEST_STRICT=1),
 * a missing tool is a failure; a lone `npx vitest run` on a developer machine may skip, and says why.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export const isCI = /^(1|true|yes)$/i.test(process.env.CI ?? "") || process.env.VHDX_TEST_STRICT === "1";

/** The Debian package that ships each tool, for the message that tells how to get it. */
export const TOOL_PACKAGES: Record<string, string> = {
  "qemu-img": "qemu-utils",
  "qemu-io": "qemu-utils",
  vhdiinfo: "libvhdi-utils",
  chromium: "chromium",
  strace: "strace",
  gcc: "gcc",
  hexdump: "bsdextrautils",
  xxd: "xxd",
  fallocate: "util-linux",
  "mkfs.fat": "dosfstools",
  mcopy: "mtools",
  mdel: "mtools",
  sgdisk: "gdisk",
  sfdisk: "fdisk",
  fls: "sleuthkit",
  icat: "sleuthkit",
  mke2fs: "e2fsprogs",
  e2fsck: "e2fsprogs",
  debugfs: "e2fsprogs",
  dumpe2fs: "e2fsprogs",
  istat: "sleuthkit",
  mkntfs: "ntfs-3g",
  "ntfs-3g": "ntfs-3g",
  ntfsls: "ntfs-3g",
  ntfscat: "ntfs-3g",
  "mkfs.exfat": "exfatprogs",
  "mount.exfat-fuse": "exfat-fuse",
  fusermount: "fuse3",
  setfattr: "attr",
  losetup: "mount",
  mshowfat: "mtools",

  prlimit: "util-linux",
  perl: "perl-base",
  vhdimount: "libvhdi-utils",
  img_cat: "sleuthkit",
};

/** Absolute path of an executable on PATH, or undefined. */
export function findTool(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here; next directory
    }
  }
  return undefined;
}

export function missingToolMessage(name: string): string {
  const pkg = TOOL_PACKAGES[name] ?? name;
  return `${name} not found on PATH (Debian package ${pkg}: apt-get install -y ${pkg})`;
}

/** Path of a required tool; throws when it is missing. */
export function requireTool(name: string): string {
  const p = findTool(name);
  if (!p) throw new Error(missingToolMessage(name));
  return p;
}

/**
 * For describe.skipIf: undefined when every tool is there, else the reason to skip.
 * Under CI=true it throws instead, so a missing tool fails the run rather than hiding tests.
 */
export function missingTools(...names: string[]): string | undefined {
  const missing = names.filter((n) => !findTool(n));
  if (missing.length === 0) return undefined;
  const reason = missing.map(missingToolMessage).join("; ");
  if (isCI) throw new Error(`CI=true and a peer tool is missing: ${reason}`);
  console.warn(`[skipped] ${reason}`);
  return reason;
}
