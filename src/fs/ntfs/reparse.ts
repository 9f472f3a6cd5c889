/** $REPARSE_POINT values: symbolic links and junctions (mount points) carry their target. */
import { u16, u32, utf16 } from "./bytes";

export const IO_REPARSE_TAG_MOUNT_POINT = 0xa0000003;
export const IO_REPARSE_TAG_SYMLINK = 0xa000000c;

export interface ReparsePoint {
  tag: number;
  /** The target as a person reads it (the print name, else the substitute name); null for other tags. */
  target: string | null;
  kind: "symlink" | "junction" | "other";
}

export function parseReparsePoint(v: Uint8Array): ReparsePoint {
  if (v.length < 8) return { tag: 0, target: null, kind: "other" };
  const tag = u32(v, 0);
  const dataLength = u16(v, 4);
  const data = v.subarray(8, Math.min(v.length, 8 + dataLength));
  const named = (buffer: number) => {
    if (data.length < buffer) return null;
    const sub = { off: u16(data, 0), len: u16(data, 2) };
    const print = { off: u16(data, 4), len: u16(data, 6) };
    const pick = print.len ? print : sub;
    if (buffer + pick.off + pick.len > data.length) return null;
    return utf16(data, buffer + pick.off, pick.len / 2);
  };
  if (tag === IO_REPARSE_TAG_SYMLINK) return { tag, target: named(12), kind: "symlink" };
  if (tag === IO_REPARSE_TAG_MOUNT_POINT) return { tag, target: named(8), kind: "junction" };
  return { tag, target: null, kind: "other" };
}
