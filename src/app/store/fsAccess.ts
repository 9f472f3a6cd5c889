/**
 * The parts of the File System Access API the app uses that TypeScript's DOM library does not
 * declare yet (Chromium has them; other browsers fall back to <input type=file>).
 */

export interface PermissionHandle {
  queryPermission?(d: { mode: "read" | "readwrite" }): Promise<PermissionState>;
  requestPermission?(d: { mode: "read" | "readwrite" }): Promise<PermissionState>;
}

interface PickerWindow {
  showOpenFilePicker?: (opts?: {
    multiple?: boolean;
    excludeAcceptAllOption?: boolean;
    types?: { description: string; accept: Record<string, string[]> }[];
  }) => Promise<FileSystemFileHandle[]>;
}

export function hasOpenFilePicker(): boolean {
  return typeof (window as unknown as PickerWindow).showOpenFilePicker === "function";
}

/** Shows the system picker; resolves null when the user cancels. */
export async function pickFileHandle(): Promise<FileSystemFileHandle | null> {
  const w = window as unknown as PickerWindow;
  if (!w.showOpenFilePicker) return null;
  try {
    const [h] = await w.showOpenFilePicker({
      types: [{ description: "Virtual hard disk", accept: { "application/octet-stream": [".vhdx", ".avhdx"] } }],
    });
    return h ?? null;
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") return null;
    throw e;
  }
}

/** Asks again for access to a remembered handle; true when granted. */
export async function ensurePermission(handle: FileSystemFileHandle, mode: "read" | "readwrite"): Promise<boolean> {
  const h = handle as FileSystemFileHandle & PermissionHandle;
  if (!h.queryPermission || !h.requestPermission) return true;
  if ((await h.queryPermission({ mode })) === "granted") return true;
  return (await h.requestPermission({ mode })) === "granted";
}
