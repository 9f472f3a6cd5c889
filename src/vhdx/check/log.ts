import { hex } from "../errors";
import { isZeroGuid } from "../guid";
import { Header, HEADER_OFFSETS } from "../header";
import { CheckContext } from "./findings";

export interface LogState {
  /** LogGuid is set: the log holds entries that must be replayed before the file is used. */
  needsReplay: boolean;
}

/** §2.2.2 LogGuid, §2.3: whether the log must be replayed, and whether it can be. */
export async function checkLog(ctx: CheckContext, header: Header, currentIndex: 0 | 1): Promise<LogState> {
  const headerAt = HEADER_OFFSETS[currentIndex];
  if (header.logLength > 0 && header.logOffset + header.logLength > ctx.fileSize) {
    ctx.add("error", "LOG_BEYOND_EOF", `the log [${hex(header.logOffset)}, ${hex(header.logOffset + header.logLength)}) runs past the end of the file (${hex(ctx.fileSize)})`, "log", header.logOffset, header.logLength);
  }
  if (isZeroGuid(header.logGuid)) return { needsReplay: false };
  if (header.logLength === 0) {
    ctx.add("error", "LOG_INVALID", `LogGuid is ${header.logGuid} but the log has length 0`, `header ${currentIndex + 1}`, headerAt + 48, 16);
    return { needsReplay: false };
  }
  ctx.add("error", "LOG_NEEDS_REPLAY", `LogGuid is ${header.logGuid}: the log must be replayed before the file is used (§2.3.3)`, "log", header.logOffset, header.logLength);
  return { needsReplay: true };
}
