/**
 * The engine as a library (`import … from "vhdx-studio"`): open, read, create, convert, check and
 * repair VHDX images, and inspect their log. Pure TypeScript with no Node or DOM import: storage is
 * handed in as a `RandomAccess` (`MemoryBackend` here, a file from "vhdx-studio/node", a browser
 * File or OPFS handle of your own). Only what is listed here is the package's API.
 */
export { openImage, VhdxImage, type ByteRange, type DiskType, type OpenOptions, type VirtualDisk } from "../vhdx/image";
export { MemoryBackend, type RandomAccess } from "../vhdx/io";
export { VhdxError, type VhdxErrorCode } from "../vhdx/errors";
export { imageInfo, fileMap, type FileMap, type ImageInfo, type MapExtent } from "../vhdx/info";
export {
  createImage,
  parentInfoOf,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_LOG_SIZE,
  type CreateOptions,
  type CreateLayout,
  type ParentInfo,
} from "../vhdx/create";
export {
  convertToRaw,
  convertToVhdx,
  rawDisk,
  type Progress,
  type StreamOptions,
  type ToRawResult,
  type ToVhdxOptions,
  type ToVhdxResult,
} from "../vhdx/convert";
export { mergeIntoParent, type MergeOptions, type MergeResult } from "../vhdx/merge";
export {
  checkImage,
  type CheckCode,
  type CheckOptions,
  type CheckReport,
  type Finding,
  type Severity,
} from "../vhdx/check/index";
export { repairImage, type RepairAction, type RepairResult, type RepairWrite } from "../vhdx/check/repair";
export { logReport, type LogEntrySummary, type LogReport, type ReplayPreviewSummary } from "../vhdx/logReport";
export { scanLog, type ActiveSequence, type LogScan } from "../vhdx/log/search";
export { attachParents, closeChain, type ChainOptions, type ParentResolver } from "../vhdx/chain";
export { VhdxWriter, type WriterOptions } from "../vhdx/write";
export { commitPatch, estimatePatch, type PatchCost, type PatchEdit } from "../vhdx/patch";
