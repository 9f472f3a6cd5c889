/** $FILE_NAME values: the parent directory's reference, times, sizes as last indexed, the name and its namespace. */
import { FsError } from "../errors";
import { fileReference, filetime, u32, u64, utf16 } from "./bytes";

export const NS_POSIX = 0;
export const NS_WIN32 = 1;
export const NS_DOS = 2;
export const NS_WIN32_AND_DOS = 3;

export const FILE_ATTRIBUTE_READONLY = 0x1;
export const FILE_ATTRIBUTE_HIDDEN = 0x2;
export const FILE_ATTRIBUTE_SYSTEM = 0x4;
export const FILE_ATTRIBUTE_DIRECTORY_INDEX = 0x10000000;
export const FILE_ATTRIBUTE_REPARSE_POINT = 0x400;
export const FILE_ATTRIBUTE_ENCRYPTED = 0x4000;

export interface FileName {
  parent: number;
  parentSequence: number;
  ctime: number | null;
  mtime: number | null;
  atime: number | null;
  dataSize: number;
  flags: number;
  namespace: number;
  name: string;
}

export function parseFileName(v: Uint8Array, offset: number): FileName {
  const S = "$FILE_NAME";
  if (v.length < 0x42 || v.length < 0x42 + 2 * v[0x40]) {
    throw new FsError("FS_CORRUPT", `a $FILE_NAME of ${v.length} bytes is shorter than its name`, S, offset);
  }
  const parent = fileReference(v, 0);
  return {
    parent: parent.record,
    parentSequence: parent.sequence,
    ctime: filetime(v, 0x08),
    mtime: filetime(v, 0x10),
    atime: filetime(v, 0x20),
    dataSize: u64(v, 0x30, S, offset),
    flags: u32(v, 0x38),
    namespace: v[0x41],
    name: utf16(v, 0x42, v[0x40]),
  };
}
