/**
 * Files the operating system hands to the installed app: the manifest's `file_handlers` make
 * Chromium offer VHDX Studio for .vhdx and .avhdx files, and a file opened with it arrives through
 * `window.launchQueue` as a FileSystemFileHandle, which opens in the editor (read-only, as any
 * opened file, until editing is asked for). The editor holds one image, so the manifest asks for a
 * window per file ("launch_type": "multiple-clients"); should a launch still carry several, the
 * first opens. TypeScript's DOM library does not declare the Launch Handler API yet.
 */

interface LaunchParams {
  readonly targetURL?: string;
  readonly files: readonly FileSystemHandle[];
}

interface LaunchQueue {
  setConsumer(consumer: (params: LaunchParams) => void): void;
}

type OpenHandle = (handle: FileSystemFileHandle, name: string) => void;

function isFileHandle(h: FileSystemHandle): h is FileSystemFileHandle {
  return h.kind === "file";
}

/**
 * Opens each launch's first file with `open`; returns whether the browser has a launch queue
 * (false in a tab of a browser without it, where files come through the picker or a drop).
 */
export function consumeLaunchQueue(open: OpenHandle): boolean {
  const queue = (window as unknown as { launchQueue?: LaunchQueue }).launchQueue;
  if (!queue || typeof queue.setConsumer !== "function") return false;
  queue.setConsumer((params) => {
    const files = (params.files ?? []).filter(isFileHandle);
    const first = files[0];
    if (!first) return; // a launch of the app itself, with no file
    open(first, first.name);
  });
  return true;
}
