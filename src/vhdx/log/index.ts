/** The VHDX log (§2.3) and header updates (§2.2.2.1): the public API of this directory. */
export * from "./entry";
export { LogRing, LOG_WINDOW } from "./ring";
export { validateEntry, hasEntrySignature, LOG_FORBIDDEN_PREFIX, MAX_KEPT_DESCRIPTORS } from "./validate";
export type { DescriptorReport, EntryReport, ValidationContext } from "./validate";
export { scanLog, findActiveSequence, MAX_LISTED_ENTRIES } from "./search";
export type { ActiveSequence, LogScan, ScanOptions } from "./search";
export { entryUpdates } from "./updates";
export type { EntryUpdate } from "./updates";
export { previewOfOverlay, replayLog, replayLogInPlace, replayPreview } from "./replay";
export type { ReplayResult, ReplayPreviewItem } from "./replay";
export { OverlayBackend } from "./overlay";
export { HeaderUpdater } from "./headerUpdate";
export type { HeaderChanges, HeaderUpdateOptions } from "./headerUpdate";
export { LogWriter, toLogUpdates, fitsOneDescriptorSector, failedBeforeLogEntry } from "./writer";
export type { MetadataUpdate, CommitInfo, LogWriterOptions, CommitOptions } from "./writer";
export { writeZeros } from "./zeros";
export { recoverLog } from "./recover";
export type { LogRecovery, ReplayMode } from "./recover";
