/**
 * The toolbox's pickers: files to read, a file to write (the save picker), a folder granted once
 * (the directory picker), and OPFS files for results the user downloads. Each resolves null when
 * the user dismisses it or the browser has no such picker.
 */

type Accept = { description: string; accept: Record<string, string[]> }[];

interface Pickers {
  showOpenFilePicker?: (o?: {
    multiple?: boolean;
    types?: Accept;
    excludeAcceptAllOption?: boolean;
  }) => Promise<FileSystemFileHandle[]>;
  showSaveFilePicker?: (o?: { suggestedName?: string; types?: Accept }) => Promise<FileSystemFileHandle>;
  showDirectoryPicker?: (o?: { mode?: "read" | "readwrite" }) => Promise<FileSystemDirectoryHandle>;
}

const w = (): Pickers => window as unknown as Pickers;

export const VHDX_TYPES: Accept = [
  { description: "Virtual hard disk", accept: { "application/octet-stream": [".vhdx", ".avhdx"] } },
];
export const VHD_TYPES: Accept = [
  { description: "Virtual hard disk (VHD)", accept: { "application/octet-stream": [".vhd"] } },
];
export const RAW_TYPES: Accept = [
  { description: "Raw disk image", accept: { "application/octet-stream": [".img", ".raw", ".bin"] } },
];

function dismissed(e: unknown): boolean {
  return e instanceof DOMException && e.name === "AbortError";
}

export const can = {
  open: () => typeof w().showOpenFilePicker === "function",
  save: () => typeof w().showSaveFilePicker === "function",
  directory: () => typeof w().showDirectoryPicker === "function",
};

export async function pickFiles(types: Accept, multiple = false): Promise<FileSystemFileHandle[] | null> {
  const p = w().showOpenFilePicker;
  if (!p) return null;
  try {
    return await p({ multiple, types });
  } catch (e) {
    if (dismissed(e)) return null;
    throw e;
  }
}

export async function pickSaveFile(suggestedName: string, types: Accept): Promise<FileSystemFileHandle | null> {
  const p = w().showSaveFilePicker;
  if (!p) return null;
  try {
    return await p({ suggestedName, types });
  } catch (e) {
    if (dismissed(e)) return null;
    throw e;
  }
}

export async function pickDirectory(): Promise<FileSystemDirectoryHandle | null> {
  const p = w().showDirectoryPicker;
  if (!p) return null;
  try {
    return await p({ mode: "read" });
  } catch (e) {
    if (dismissed(e)) return null;
    throw e;
  }
}

/** The toolbox keeps OPFS results in one folder. */
export const OPFS_DIR = "toolbox";

/** The handle of a toolbox result in OPFS (for opening it in the editor or downloading it). */
export async function opfsResult(name: string): Promise<FileSystemFileHandle> {
  const root = await navigator.storage.getDirectory();
  return (await root.getDirectoryHandle(OPFS_DIR)).getFileHandle(name);
}
