import { basename } from "node:path";
import { fileReport } from "../vhdx/report";
import { reportMarkdown } from "../vhdx/reportMarkdown";
import { oneImage, ParsedArgs } from "./args";
import { Io, openForViewing } from "./commands";

/**
 * `vhdx report <image> [--json]`: the file report (SHA-256, headers, regions, metadata, BAT
 * counts, log and replay changes, check findings) as Markdown, or as the JSON the editor exports.
 */
export async function reportCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "report");
  const img = await openForViewing(path);
  try {
    const r = await fileReport(img, { name: basename(path) });
    io.out(a.flags.has("json") ? JSON.stringify(r, null, 2) + "\n" : reportMarkdown(r) + "\n");
    return 0;
  } finally {
    await img.close();
  }
}
