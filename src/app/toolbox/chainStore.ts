/**
 * A differencing image's parents: the locator's paths, the parents the user gives (files, or a
 * folder granted once), the identity check's verdict, and the chain once attached.
 */
import { create } from "zustand";
import type { ChainView, ParentLocatorView, ParentSource } from "../../worker/chain";
import { engineClient } from "../store/engineConnection";
import { useApp } from "../store/store";
import { errorText } from "./checkStore";

export type { ChainView, ParentLocatorView };

interface ChainState {
  locator: ParentLocatorView | null;
  chain: ChainView | null;
  busy: boolean;
  error: string | null;
  /** A linkage mismatch: the source to attach anyway, read-only. */
  mismatch: ParentSource | null;
  load(): Promise<void>;
  attach(source: ParentSource, force?: boolean): Promise<void>;
  /** No parent at hand: show the image's own structures, read-only, without reading through it. */
  openWithoutParent(): Promise<void>;
  reset(): void;
}

export const useChain = create<ChainState>()((set, get) => ({
  locator: null,
  chain: null,
  busy: false,
  error: null,
  mismatch: null,

  async load() {
    const client = engineClient();
    if (!client) return;
    try {
      const locator = await client.parentLocator();
      const chain = locator?.attached ? await client.chain() : null;
      set({ locator, chain, error: null });
      // Nothing to verify: no parent locator, or the parents are already attached.
      if (!locator || locator.attached) useApp.getState().parentSettled();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  async attach(source, force = false) {
    const client = engineClient();
    if (!client) return;
    set({ busy: true, error: null, mismatch: null });
    try {
      const chain = await client.attachChain(source, { force });
      set({ chain, locator: get().locator ? { ...get().locator!, attached: true } : null });
      useApp.getState().parentSettled();
      // Reads through the chain now work. How the image is open comes from the worker: a forced
      // attach leaves it read-only, and a "read-only anyway" chosen before the parent came no
      // longer applies.
      await useApp.getState().imageChanged(await client.access());
    } catch (e) {
      const code = (e as { code?: string }).code;
      set({ error: errorText(e), mismatch: code === "PARENT_MISMATCH" ? source : null });
    } finally {
      set({ busy: false });
    }
  },

  async openWithoutParent() {
    const app = useApp.getState();
    app.parentSettled();
    await app.imageChanged({
      readOnly: true,
      readOnlyReason: "its parent is not attached (opened read-only anyway)",
      logAwaitsReplay: app.info?.logAwaitsReplay ?? false,
    });
  },

  reset() {
    set({ locator: null, chain: null, error: null, mismatch: null, busy: false });
  },
}));
