/**
 * Resizing the open image (vhdx/resize.ts) from the editor: the cost first (with what a shrink
 * would cut inside the disk), then one commit on the session's storage. On a user's file the whole
 * resize goes through one writable, so a cancel before the end discards it; afterwards the image
 * is read again from storage, as the editor then shows it.
 */
import { volumesPastEnd, type CutVolume } from "../fs/partitions/pastEnd";
import { VhdxError } from "../vhdx/errors";
import { planResize, resizeImage, type ResizePlan } from "../vhdx/resize";
import { reload, writerOf } from "./commit";
import type { CallContext } from "./protocol";
import { assertEditable, editRefusal, runCommit } from "./session";
import { current, exclusive } from "./state";
import { throwIfCancelled } from "./storage/copy";
import { progressOf } from "./toolbox";

export interface ResizeCostReport {
  plan: ResizePlan | null;
  /** Why the resize cannot go ahead as asked; empty when it can. */
  problems: string[];
  /** Partitions, whole-disk file systems or the GPT backup header a shrink would cut. */
  cuts: CutVolume[];
}

export interface ResizeReport {
  plan: ResizePlan;
  atomic: boolean;
  ms: number;
}

/** What resizing the open image to `size` bytes would change; writes nothing. */
export function resizeCost(_ctx: CallContext, size: number): Promise<ResizeCostReport> {
  return exclusive(async () => {
    const s = current();
    const refusal = editRefusal(s);
    if (refusal) return { plan: null, problems: [refusal.message], cuts: [] };
    let plan: ResizePlan;
    try {
      plan = await planResize(s.image, size);
    } catch (e) {
      if (e instanceof VhdxError) return { plan: null, problems: [e.message], cuts: [] };
      throw e;
    }
    const img = s.image;
    const device = { size: img.virtualSize, read: (o: number, l: number) => img.read(o, l) };
    const cuts = await volumesPastEnd(device, img.params.logicalSectorSize, size);
    return { plan, problems: [], cuts };
  });
}

/** Resizes the open image (force: drop data past a shrunk end), then reads it again from storage. */
export function resizeOpen(ctx: CallContext, size: number, force: boolean): Promise<ResizeReport> {
  return exclusive(async () => {
    const s = current();
    assertEditable(s);
    const w = writerOf(s);
    const t0 = performance.now();
    let result: { value: ResizePlan; atomic: boolean };
    try {
      result = await runCommit(s, async () => {
        throwIfCancelled(ctx.signal, "Resize");
        const plan = await resizeImage(w, size, { force, signal: ctx.signal, onProgress: progressOf(ctx) });
        await w.finish();
        return plan;
      });
    } catch (e) {
      await reload(s);
      throw e;
    }
    await reload(s);
    return { plan: result.value, atomic: result.atomic, ms: performance.now() - t0 };
  });
}
