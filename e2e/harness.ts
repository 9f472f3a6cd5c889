/**
 * Test harness page: exposes the engine client and small OPFS helpers on `window.harness` for
 * Playwright. It imports only the typed client (src/app/engine), like the app does.
 */
import { chooseSaveTarget, createEngineClient, ensurePermission, type EngineClient } from "../src/app/engine/client";
import { addRecent, listRecent, reopenRecent, clearRecent } from "../src/app/engine/recent";
import { createRpcClient, type RpcClient } from "../src/app/engine/rpc";
import type { ProbeMethods } from "./probe.worker";

async function opfsHandle(path: string, create = false): Promise<FileSystemFileHandle> {
  const parts = path.split("/").filter(Boolean);
  const name = parts.pop() as string;
  let dir = await navigator.storage.getDirectory();
  for (const p of parts) dir = await dir.getDirectoryHandle(p, { create });
  return dir.getFileHandle(name, { create });
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function sha256(data: Blob | Uint8Array): Promise<string> {
  const buf = data instanceof Blob ? await data.arrayBuffer() : new Uint8Array(data);
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const harness = {
  createEngineClient,
  /** The shipped worker plus raw storage access (e2e/probe.worker.ts). */
  createProbeClient(): RpcClient<ProbeMethods> & { worker: Worker } {
    const worker = new Worker(new URL("./probe.worker.ts", import.meta.url), { type: "module", name: "probe" });
    return Object.assign(createRpcClient<ProbeMethods>(worker), { worker });
  },
  opfsHandle,
  /** Downloads a fixture the test serves and stores it in OPFS at `path`. */
  async putOpfs(path: string, url: string): Promise<number> {
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new Error(`fixture ${url}: HTTP ${res.status}`);
    const w = await (await opfsHandle(path, true)).createWritable({ keepExistingData: false });
    await res.body.pipeTo(w);
    return (await (await opfsHandle(path)).getFile()).size;
  },
  async opfsBase64(path: string): Promise<string> {
    const f = await (await opfsHandle(path)).getFile();
    return toBase64(new Uint8Array(await f.arrayBuffer()));
  },
  async opfsSha256(path: string): Promise<string> {
    return sha256(await (await opfsHandle(path)).getFile());
  },
  async opfsExists(path: string): Promise<boolean> {
    try {
      await opfsHandle(path);
      return true;
    } catch {
      return false;
    }
  },
  async clearOpfs(): Promise<void> {
    const root = await navigator.storage.getDirectory();
    const names: string[] = [];
    for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    for (const n of names) await root.removeEntry(n, { recursive: true });
  },
  /** Makes window.showOpenFilePicker return the OPFS file at `path`: a real FileSystemFileHandle. */
  stubOpenPicker(path: string): void {
    (window as unknown as { showOpenFilePicker: () => Promise<FileSystemFileHandle[]> }).showOpenFilePicker =
      async () => [await opfsHandle(path)];
  },
  /** Makes window.showSaveFilePicker return the OPFS file at `path` (created). */
  stubSavePicker(path: string): void {
    (window as unknown as { showSaveFilePicker: () => Promise<FileSystemFileHandle> }).showSaveFilePicker = () =>
      opfsHandle(path, true);
  },
  chooseSaveTarget,
  async pickFile(): Promise<FileSystemFileHandle> {
    const picker = (window as unknown as { showOpenFilePicker: () => Promise<FileSystemFileHandle[]> })
      .showOpenFilePicker;
    const [h] = await picker();
    return h;
  },
  inputFile(): File {
    const input = document.getElementById("file") as HTMLInputElement;
    const f = input.files?.[0];
    if (!f) throw new Error("no file chosen");
    return f;
  },
  toBase64,
  fromBase64,
  sha256,
  ensurePermission,
  recent: { addRecent, listRecent, reopenRecent, clearRecent },
};

export type Harness = typeof harness;
export type { EngineClient };
(window as unknown as { harness: Harness }).harness = harness;
(document.getElementById("status") as HTMLElement).textContent = "ready";
