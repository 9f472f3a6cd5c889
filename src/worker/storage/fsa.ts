/**
 * Parts of the File System Access API that TypeScript's DOM library does not declare yet
 * (Chromium ships them). Kept as plain interfaces plus narrow accessors instead of a global
 * augmentation, so the rest of the project's typing stays untouched.
 */

export type PermissionMode = "read" | "readwrite";

export interface PermissionCapableHandle {
  queryPermission?(descriptor: { mode: PermissionMode }): Promise<PermissionState>;
  requestPermission?(descriptor: { mode: PermissionMode }): Promise<PermissionState>;
  /** Chromium: a stable identifier of the entry, the same across handles to one file. */
  getUniqueId?(): Promise<string>;
}

/** §FileSystemSyncAccessHandle (dedicated workers only): synchronous, in-place file I/O on OPFS. */
export interface FileSystemSyncAccessHandle {
  read(buffer: ArrayBufferView, options?: { at?: number }): number;
  write(buffer: ArrayBufferView, options?: { at?: number }): number;
  truncate(newSize: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

export type SyncAccessMode = "readwrite" | "read-only" | "readwrite-unsafe";

interface SyncCapableHandle {
  createSyncAccessHandle(options?: { mode?: SyncAccessMode }): Promise<FileSystemSyncAccessHandle>;
}

export function createSyncAccessHandle(
  handle: FileSystemFileHandle,
  mode: SyncAccessMode = "readwrite",
): Promise<FileSystemSyncAccessHandle> {
  const h = handle as unknown as Partial<SyncCapableHandle>;
  if (typeof h.createSyncAccessHandle !== "function") {
    throw new Error("FileSystemSyncAccessHandle is not available here (it exists only in dedicated workers)");
  }
  return mode === "readwrite" ? h.createSyncAccessHandle() : h.createSyncAccessHandle({ mode });
}

export function permissionApi(handle: FileSystemHandle): PermissionCapableHandle {
  return handle as unknown as PermissionCapableHandle;
}

export interface SaveFilePickerOptions {
  suggestedName?: string;
  types?: { description?: string; accept: Record<string, string[]> }[];
}

export interface OpenFilePickerOptions {
  multiple?: boolean;
  types?: { description?: string; accept: Record<string, string[]> }[];
}

/** The window-level pickers, present in Chromium only. */
export interface FilePickers {
  showOpenFilePicker?(options?: OpenFilePickerOptions): Promise<FileSystemFileHandle[]>;
  showSaveFilePicker?(options?: SaveFilePickerOptions): Promise<FileSystemFileHandle>;
}

export function filePickers(scope: object = globalThis): FilePickers {
  return scope as FilePickers;
}
