/**
 * The parts of the File System Access API the app uses that TypeScript's DOM library does not
 * declare yet (Chromium has them; other browsers fall back to <input type=file>).
 */

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
