import type { EngineMethods, SaveTarget } from "../../worker/methods";
import type { Port } from "../../worker/protocol";
import { filePickers, permissionApi, type PermissionMode } from "../../worker/storage/fsa";
import { createRpcClient, type RpcClient, type RpcMethods } from "./rpc";

export type { Pending, ProgressEvent, CallOptions } from "./rpc";
export type { OpenResult, EngineStats, SaveTarget, SaveResult, Capabilities } from "../../worker/methods";
export type { OpenSource } from "../../worker/session";
export type { PatchWrite, PatchCostReport, CommitReport } from "../../worker/commit";

/**
 * The UI's handle on the engine worker. Every engine method is a typed async call:
 *
 *   const engine = createEngineClient();
 *   const opened = await engine.open({ kind: "file", file });
 *   const bytes = await engine.read("virtual", 0, 4096);        // Uint8Array, transferred
 *   const job = engine.importToOpfs({ kind: "file", file }, "work/disk.vhdx").onProgress(p => …);
 *   job.cancel();                                                  // rejects with VhdxError CANCELLED
 *
 * The UI thread never parses VHDX: it gets plain JSON and bytes from the worker.
 */
export type EngineClient = RpcMethods<EngineMethods> & {
  /** The generic form, for options: `engine.call("importToOpfs", [src, path], { onProgress, signal })`. */
  call: RpcClient<EngineMethods>["call"];
  /** Cancels one call by id, or all calls in flight. */
  cancel(id?: number): void;
  /** Calls waiting for an answer. */
  readonly inFlight: number;
  /** Stops the worker; calls in flight reject. */
  terminate(): void;
};

export interface WorkerLike extends Port {
  terminate?(): void;
}

export function createEngineWorker(): Worker {
  return new Worker(new URL("../../worker/engine.worker.ts", import.meta.url), { type: "module", name: "vhdx-engine" });
}

export function createEngineClient(worker: WorkerLike = createEngineWorker()): EngineClient {
  const rpc = createRpcClient<EngineMethods>(worker);
  const extra = {
    call: rpc.call,
    cancel: rpc.cancel,
    terminate() {
      rpc.dispose();
      worker.terminate?.();
    },
  };
  return new Proxy(extra as unknown as EngineClient, {
    get(target, prop, receiver) {
      if (prop === "inFlight") return rpc.inFlight;
      if (prop in target) return Reflect.get(target, prop, receiver);
      if (prop === "then") return undefined; // not a thenable
      return Reflect.get(rpc.api, prop);
    },
  });
}

/**
 * Asks for `mode` access to a handle: queryPermission first, then requestPermission, which the
 * browser only allows during a user gesture (call this from the click that opens the file).
 * Returns the resulting state; the worker opens read-only and says why when it is not "granted".
 */
export async function ensurePermission(handle: FileSystemHandle, mode: PermissionMode): Promise<PermissionState> {
  const api = permissionApi(handle);
  if (!api.queryPermission) return "granted"; // engines without the permission model grant by picking
  let state = await api.queryPermission({ mode });
  if (state === "prompt" && api.requestPermission) {
    try {
      state = await api.requestPermission({ mode });
    } catch {
      // No user activation: leave the state as "prompt".
    }
  }
  return state;
}

/** Starts a download of a Blob the worker produced ("save as" without File System Access). */
export function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoke after the browser has taken the URL.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** What the page itself offers; the worker's side is `engine.capabilities()`. */
export function pageCapabilities(): { openFilePicker: boolean; saveFilePicker: boolean } {
  const pickers = filePickers(globalThis);
  return {
    openFilePicker: typeof pickers.showOpenFilePicker === "function",
    saveFilePicker: typeof pickers.showSaveFilePicker === "function",
  };
}

/**
 * Where "save as" goes: a file the user picks (Chromium's save picker; call from a click), or a
 * download in browsers without File System Access. Null when the user dismissed the picker.
 */
export async function chooseSaveTarget(suggestedName: string): Promise<SaveTarget | null> {
  const pickers = filePickers(globalThis);
  if (typeof pickers.showSaveFilePicker !== "function") return { kind: "download" };
  try {
    const handle = await pickers.showSaveFilePicker({
      suggestedName,
      types: [{ description: "VHDX virtual disk", accept: { "application/octet-stream": [".vhdx"] } }],
    });
    return { kind: "handle", handle };
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") return null;
    throw e;
  }
}
