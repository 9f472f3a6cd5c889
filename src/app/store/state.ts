import type { VhdInfo } from "../../vhd/info";
/** The editor's state as the views see it: tabs, capabilities, commit progress and the actions they call. */
import type { EditStage, StagedWrite } from "../lib/editStage";
import type {
  Access,
  ByteSpace,
  CheckReport,
  CommitCost,
  CommitResult,
  FileMap,
  MapWindow,
  ImageInfo,
  LogReport,
  OpenSource,
  Progress,
} from "./engineApi";
import type { RecentFile } from "./engineConnection";

export const TABS = ["Headers", "Regions", "Metadata", "BAT", "Log", "Hex", "Files"] as const;
export type Tab = (typeof TABS)[number];
export type Theme = "system" | "light" | "dark";

export type CommitState =
  | { phase: "idle" }
  | { phase: "costing" }
  | { phase: "confirm"; cost: CommitCost; bytesStaged: number }
  | { phase: "running"; progress: Progress | null }
  | { phase: "done"; result: CommitResult }
  | { phase: "error"; message: string };

export interface Focus {
  space: ByteSpace;
  /** The hex view's cursor. */
  offset: number;
  length?: number;
  /** The other end of the hex view's selection (the cursor is one end); none when undefined. */
  anchor?: number;
}

/** What the connected engine can do beyond viewing. */
export interface Capabilities {
  log: boolean;
  check: boolean;
  replay: boolean;
  commit: boolean;
  /** Edit a File (input, drop, sample) through a copy in browser storage. */
  workingCopy: boolean;
  save: boolean;
}

export interface AppState {
  engineAvailable: boolean;
  caps: Capabilities;
  status: "empty" | "opening" | "ready" | "error";
  error: string | null;
  progress: Progress | null;
  fileName: string | null;
  info: ImageInfo | null;
  /** A VHD (v1) disk open read-only (then `info` is null): `vhdx info --json` of it. */
  vhd: VhdInfo | null;
  map: FileMap | null;
  batWords: Uint32Array | null;
  log: LogReport | null;
  check: CheckReport | null;
  /**
   * Why the engine refuses edits on the open image although it may be open for writing (a
   * differencing image without its parent); null when it takes them.
   */
  editRefusal: string | null;
  /** A damaged image: findings with errors are shown and nothing is written unless asked. */
  inspection: boolean;
  tab: Tab;
  /** Where the hex view stands (and the region map highlights, for findings). */
  focus: Focus;
  stage: EditStage;
  commit: CommitState;
  replaying: boolean;
  recent: RecentFile[];
  theme: Theme;
  findingsOpen: boolean;
  /**
   * A differencing image just opened: its views wait behind the parent dialog until a parent is
   * attached and its DataWriteGuid verified, or the user opens it read-only anyway.
   */
  awaitingParent: boolean;
  /** The parent question is settled (attached, verified or waived): the views may show. */
  parentSettled(): void;

  openSource(source: OpenSource, name: string, opts?: { writable?: boolean }): Promise<void>;
  /** Asks for write access to the open file (a picked handle) and reopens it editable; a File becomes a working copy. */
  enableEditing(opts?: { signal?: AbortSignal; onProgress?: (p: Progress) => void }): Promise<void>;
  /** Saves the open image (a working copy's edits) to a file or a download. */
  saveCopy(): Promise<void>;
  /** True when the open image is a working copy in browser storage. */
  workingCopy: boolean;
  /** True when the open image came as a File (input, drop, sample): no write access to it. */
  openedFromFile: boolean;
  openSample(): Promise<void>;
  openRecent(entry: RecentFile): Promise<void>;
  loadRecentList(): Promise<void>;
  cancelOpen(): void;
  setTab(tab: Tab): void;
  goTo(space: ByteSpace, offset: number, length?: number): void;
  read(space: ByteSpace, offset: number, length: number): Promise<Uint8Array>;
  /** A window of the file's layout (the region view's visible cells); null with no image open. */
  mapWindow(window: MapWindow): Promise<FileMap | null>;
  /**
   * Stages a write; a raw-file write the engine's structure rule refuses (src/vhdx/structureRanges.ts)
   * is not staged, and its reason is returned and kept in `stageRefusal`.
   */
  stageEdit(w: Omit<StagedWrite, "time">): string | null;
  /** Why the last write could not be staged; null after one that was. */
  stageRefusal: string | null;
  undo(): void;
  redo(): void;
  discardEdits(): void;
  prepareCommit(): Promise<void>;
  confirmCommit(): Promise<void>;
  cancelCommit(): void;
  closeCommit(): void;
  replayLog(): Promise<void>;
  /** After the engine changed the open image (a repair): how it is open now, and every view fetched again. */
  imageChanged(next: Access): Promise<void>;
  setTheme(t: Theme): void;
  setFindingsOpen(open: boolean): void;
  dismissError(): void;
}
