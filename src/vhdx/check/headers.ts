import { ascii, isAllZero, MiB } from "../bytes";
import { hex } from "../errors";
import { FILE_IDENTIFIER_SIGNATURE } from "../fileIdentifier";
import { notVhdxMessage, RECOGNIZE_HEAD_SIZE, RECOGNIZE_TAIL_SIZE } from "../recognize";
import { isZeroGuid } from "../guid";
import {
  checkHeaderSlot,
  chooseCurrentHeader,
  Header,
  HEADER_OFFSETS,
  HEADER_SIGNATURE,
  HEADER_SIZE,
  HEADER_VERSION,
  HeaderSlot,
  LOG_VERSION,
} from "../header";
import { HEADER_SECTION_SIZE } from "../open";
import { CheckContext } from "./findings";

export interface HeaderSectionState {
  /** The first 1 MiB of the file (zeros past its end). */
  section: Uint8Array;
  headerSlots: [HeaderSlot, HeaderSlot];
  /** -1 when neither header is valid. */
  current: -1 | 0 | 1;
}

/**
 * §2.2.1–2.2.2: the file type identifier and both headers. A header that fails its signature or
 * checksum is a warning when the other one is good (the spec keeps two so that one may be lost);
 * problems of the header in use are errors. Returns null when the file is not a VHDX file at all.
 */
export async function checkHeaders(ctx: CheckContext): Promise<HeaderSectionState | null> {
  const section = await ctx.read(0, HEADER_SECTION_SIZE);
  const signature = ascii(section, 0, 8);
  if (ctx.fileSize < 8 || signature !== FILE_IDENTIFIER_SIGNATURE) {
    ctx.add(
      "error",
      "NOT_VHDX",
      notVhdxMessage(
        section.subarray(0, Math.min(ctx.fileSize, RECOGNIZE_HEAD_SIZE)),
        ctx.fileSize >= RECOGNIZE_TAIL_SIZE
          ? await ctx.read(ctx.fileSize - RECOGNIZE_TAIL_SIZE, RECOGNIZE_TAIL_SIZE)
          : new Uint8Array(0),
        ctx.fileSize,
      ),
      "file type identifier",
      0,
      8,
    );
    return null;
  }
  if (ctx.fileSize < HEADER_SECTION_SIZE) {
    ctx.add(
      "error",
      "FILE_TRUNCATED",
      `the file is ${ctx.fileSize} bytes, shorter than its 1 MiB header section`,
      "header section",
      0,
      HEADER_SECTION_SIZE,
    );
  }
  const headerSlots = [0, 1].map((i) =>
    checkHeaderSlot(section.subarray(HEADER_OFFSETS[i], HEADER_OFFSETS[i] + HEADER_SIZE), i as 0 | 1),
  ) as [HeaderSlot, HeaderSlot];
  const current = chooseCurrentHeader(headerSlots);
  for (const slot of headerSlots) judgeSlot(ctx, section, slot, current);
  if (current < 0) {
    ctx.add(
      "error",
      "NO_VALID_HEADER",
      "neither header is valid, so the file has no current header (§2.2.2)",
      "header",
      HEADER_OFFSETS[0],
      HEADER_OFFSETS[1] + HEADER_SIZE - HEADER_OFFSETS[0],
    );
    return { section, headerSlots, current };
  }
  const [a, b] = headerSlots;
  if (
    a.valid &&
    b.valid &&
    a.header!.sequenceNumber === b.header!.sequenceNumber &&
    !sameHeader(a.header!, b.header!)
  ) {
    ctx.add(
      "warning",
      "HEADER_SEQUENCE",
      `both headers have sequence number ${a.header!.sequenceNumber} but different contents; header 1 is taken as current`,
      "header",
      HEADER_OFFSETS[1] + 8,
      8,
    );
  }
  return { section, headerSlots, current };
}

function judgeSlot(ctx: CheckContext, section: Uint8Array, slot: HeaderSlot, current: number): void {
  const at = slot.fileOffset;
  const name = `header ${slot.index + 1}`;
  const bytes = section.subarray(at, at + HEADER_SIZE);
  // A bad copy beside a good current one is survivable (§2.2.2); in the header in use it is not.
  const sev = current >= 0 && current !== slot.index ? "warning" : "error";
  const sig = ascii(bytes, 0, 4);
  if (sig !== HEADER_SIGNATURE) {
    ctx.add(sev, "HEADER_SIGNATURE", `${name} signature is ${JSON.stringify(sig)}, expected "head"`, name, at, 4);
    return;
  }
  const h = slot.header;
  if (!h) {
    ctx.add(sev, "HEADER_INVALID", `${name} log offset does not fit in 53 bits`, name, at + 72, 8);
    return;
  }
  if (h.checksum !== slot.computedChecksum) {
    ctx.add(
      sev,
      "HEADER_CHECKSUM",
      `${name} checksum ${hex(h.checksum)} does not match the computed ${hex(slot.computedChecksum)}`,
      name,
      at + 4,
      4,
    );
    return;
  }
  if (h.version !== HEADER_VERSION) {
    ctx.add(
      sev,
      "UNSUPPORTED_VERSION",
      `${name} version is ${h.version}; only version 1 is defined (§2.2.2)`,
      name,
      at + 66,
      2,
    );
  }
  if (h.logVersion !== LOG_VERSION) {
    // §2.2.2: a non-zero LogVersion forbids processing only when there is a log to replay.
    const fatal = !isZeroGuid(h.logGuid) && current === slot.index;
    ctx.add(
      fatal ? "error" : "warning",
      "LOG_VERSION",
      `${name} log version is ${h.logVersion}, must be 0`,
      name,
      at + 64,
      2,
    );
  }
  if (h.logLength % MiB !== 0 || h.logOffset % MiB !== 0) {
    ctx.add(
      sev,
      "HEADER_INVALID",
      `${name} log offset ${hex(h.logOffset)} and length ${hex(h.logLength)} must be multiples of 1 MiB`,
      name,
      at + 68,
      12,
    );
  } else if (h.logLength > 0 && h.logOffset < HEADER_SECTION_SIZE) {
    ctx.add(
      sev,
      "HEADER_INVALID",
      `${name} places the log at ${hex(h.logOffset)}, inside the header section`,
      name,
      at + 72,
      8,
    );
  }
  if (!isAllZero(bytes.subarray(80, HEADER_SIZE))) {
    ctx.add("warning", "HEADER_RESERVED", `${name} reserved bytes are not zero`, name, at + 80, HEADER_SIZE - 80);
  }
}

function sameHeader(a: Header, b: Header): boolean {
  return (
    a.fileWriteGuid === b.fileWriteGuid &&
    a.dataWriteGuid === b.dataWriteGuid &&
    a.logGuid === b.logGuid &&
    a.logVersion === b.logVersion &&
    a.version === b.version &&
    a.logLength === b.logLength &&
    a.logOffset === b.logOffset
  );
}
