/**
 * The file-system layer (`import … from "vhdx-studio/fs"`): partition tables and file systems over
 * any `BlockDevice` (a VHDX's virtual disk, a raw file, a partition of either), knowing nothing of
 * VHDX. Its contracts, its error type and the basic devices.
 */
export type * from "../fs/types";
export { FsError, type FsErrorCode } from "../fs/errors";
export { MemoryDevice, SliceDevice } from "../fs/device";
