import { VhdxError } from "../errors";
import {
  DataDescriptor,
  DESCRIPTOR_SIZE,
  descriptorOffset,
  descriptorSectorCount,
  ENTRY_HEADER_SIZE,
  LOG_SECTOR_SIZE,
  LogEntryHeader,
  parseDataSector,
  parseDescriptor,
  parseLogEntryHeader,
  restoreSector,
} from "./entry";
import { LogRing } from "./ring";

/** One update of a log entry as a replay writes it: a restored 4 KiB sector, or a zeroed range. */
export type EntryUpdate =
  { kind: "data"; fileOffset: number; data: Uint8Array } | { kind: "zero"; fileOffset: number; length: number };

/**
 * The updates of the entry at ring `position`, in descriptor order, read from the ring one at a
 * time (a replay holds one sector, never the entry). The entry was validated by the scan; it is
 * read again here, so a header that no longer carries `sequenceNumber` (the log changed under the
 * reader) stops the replay rather than write something the scan never saw.
 */
export async function* entryUpdates(
  ring: LogRing,
  position: number,
  sequenceNumber: bigint,
  logOffset: number,
): AsyncGenerator<EntryUpdate> {
  const h: LogEntryHeader = parseLogEntryHeader(await ring.read(position, ENTRY_HEADER_SIZE));
  if (h.sequenceNumber !== sequenceNumber || h.signature !== "loge") {
    throw new VhdxError(
      "LOG_INVALID",
      `the log entry at log offset ${position} changed since the log was scanned`,
      "log entry",
      logOffset + position,
    );
  }
  const descSectors = descriptorSectorCount(h.descriptorCount);
  let dataSectors = 0;
  for (let i = 0; i < h.descriptorCount; i++) {
    const d = parseDescriptor(await ring.read(position + descriptorOffset(i), DESCRIPTOR_SIZE));
    if (d.type === "zero") yield { kind: "zero", fileOffset: d.fileOffset, length: d.zeroLength };
    else if (d.type === "data") {
      // §2.3.1: data sectors follow the descriptor sectors, one per data descriptor, in order.
      const at = ring.wrap(position + (descSectors + dataSectors++) * LOG_SECTOR_SIZE);
      const sector = parseDataSector(await ring.read(at, LOG_SECTOR_SIZE));
      yield { kind: "data", fileOffset: d.fileOffset, data: restoreSector(d as DataDescriptor, sector) };
    }
  }
}
