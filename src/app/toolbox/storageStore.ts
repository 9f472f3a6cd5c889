/**
 * The Storage panel's state: the app's files in the origin's storage as the worker lists them,
 * the quota, and the actions on one file (open in the editor, download, delete once confirmed).
 */
import { create } from "zustand";
import type { StorageListing, StoredFile } from "../../worker/browserStorage";
import { downloadBlob } from "../engine/client";
import { engineClient } from "../store/engineConnection";
import { useApp } from "../store/store";
import { errorText } from "./checkStore";

export type { StorageListing, StoredFile };

interface StorageState {
  open: boolean;
  listing: StorageListing | null;
  loading: boolean;
  /** What the last action did or why it failed, for the panel to say. */
  note: { kind: "ok" | "error"; text: string } | null;
  /** The file the user asked to delete, waiting for the confirmation. */
  confirming: StoredFile | null;
  show(): void;
  hide(): void;
  refresh(): Promise<void>;
  openFile(f: StoredFile): Promise<void>;
  download(f: StoredFile): Promise<void>;
  askDelete(f: StoredFile | null): void;
  confirmDelete(f: StoredFile): Promise<void>;
}

const baseName = (p: string) => p.split("/").pop() ?? p;

export const useStorage = create<StorageState>()((set, get) => ({
  open: false,
  listing: null,
  loading: false,
  note: null,
  confirming: null,

  show() {
    set({ open: true, note: null, confirming: null });
    void get().refresh();
  },

  hide() {
    set({ open: false, confirming: null });
  },

  async refresh() {
    const client = engineClient();
    if (!client) return;
    set({ loading: true });
    try {
      set({ listing: await client.storageList() });
    } catch (e) {
      set({ note: { kind: "error", text: `Could not list browser storage: ${errorText(e)}` } });
    } finally {
      set({ loading: false });
    }
  },

  async openFile(f) {
    const client = engineClient();
    if (!client) return;
    try {
      const handle = await client.storageHandle(f.path);
      set({ open: false });
      // The app's own files need no permission prompt: they open for editing at once.
      await useApp.getState().openSource(handle, baseName(f.path), { writable: true });
    } catch (e) {
      set({ note: { kind: "error", text: `Could not open ${f.path}: ${errorText(e)}` } });
    }
  },

  async download(f) {
    const client = engineClient();
    if (!client) return;
    try {
      downloadBlob(await client.storageFile(f.path), baseName(f.path));
    } catch (e) {
      set({ note: { kind: "error", text: `Could not download ${f.path}: ${errorText(e)}` } });
    }
  },

  askDelete(f) {
    set({ confirming: f });
  },

  async confirmDelete(f) {
    const client = engineClient();
    set({ confirming: null });
    if (!client) return;
    try {
      await client.storageRemove(f.path);
      set({ note: { kind: "ok", text: `Deleted ${f.path}.` } });
    } catch (e) {
      set({ note: { kind: "error", text: `Could not delete ${f.path}: ${errorText(e)}` } });
    }
    await get().refresh();
  },
}));
