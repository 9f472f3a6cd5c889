import { MiB } from "../bytes";
import { hex } from "../errors";
import { RegionRegistry } from "../registry";
import { CheckContext } from "./findings";

/** Whole MiB ranges of the file that no structure or block uses: harmless, reported as info. */
export function checkSpace(ctx: CheckContext, reg: RegionRegistry): void {
  for (const g of reg.freeGaps(ctx.fileSize, MiB)) {
    ctx.add(
      "info",
      "SPACE_UNREFERENCED",
      `[${hex(g.start)}, ${hex(g.start + g.length)}) (${g.length / MiB} MiB) is referenced by no structure or block`,
      "file",
      g.start,
      g.length,
    );
  }
}
