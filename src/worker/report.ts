/**
 * The worker's file report: the engine's fileReport over the open session's file, the hash
 * streamed with progress and a cancel between pieces.
 */
import { fileReport, type FileReport } from "../vhdx/report";
import { reportMarkdown } from "../vhdx/reportMarkdown";
import type { CallContext } from "./protocol";
import { current } from "./state";
import { throwIfCancelled } from "./storage/copy";

/** The report, and the same as Markdown for a person (the page holds no engine code to render it). */
export async function report(ctx: CallContext): Promise<{ report: FileReport; markdown: string }> {
  const s = current();
  ctx.progress(0, 0);
  const r = await fileReport(s.image, {
    name: s.name.split("/").pop() ?? s.name,
    onProgress: (done, total) => {
      throwIfCancelled(ctx.signal, "Report");
      ctx.progress(total > 0 ? done / total : 1, done);
    },
  });
  throwIfCancelled(ctx.signal, "Report");
  return { report: r, markdown: reportMarkdown(r) };
}
