/**
 * Jumps in the hex view that put the target's row at the top of the grid (Go to, a bookmark, a
 * Find match), even when it is on screen already, unlike a cursor move, which scrolls only as far
 * as it must.
 */
import { create } from "zustand";
import type { ByteSpace } from "../store/engineApi";
import { useApp } from "../store/store";

export interface TopRequest {
  space: ByteSpace;
  offset: number;
  /** Bumps with every jump, so a second jump to the same place still scrolls. */
  seq: number;
}

export const useHexNav = create<{ top: TopRequest | null }>()(() => ({ top: null }));

/**
 * Moves the cursor to `offset` of `space` with its row at the top of the view; with `anchor` the
 * bytes between them are selected (a Find match).
 */
export function land(space: ByteSpace, offset: number, anchor?: number): void {
  const seq = (useHexNav.getState().top?.seq ?? 0) + 1;
  useHexNav.setState({ top: { space, offset, seq } });
  useApp.setState({ focus: anchor === undefined ? { space, offset } : { space, offset, anchor } });
}
