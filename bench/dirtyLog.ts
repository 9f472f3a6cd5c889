/**
 * Bench input: turns a fresh QEMU-made dynamic VHDX into one whose 1 MiB log is full and must be
 * replayed — an active sequence of two entries, 126 data descriptors each (252 BAT sectors,
 * every payload entry set to PAYLOAD_BLOCK_ZERO), entries written by the engine's own serializer.
 * Usage: node dirtyLog.mjs <image>
 */
import { readFileSync, writeFileSync } from "node:fs";
import { encodeBatEntry, PAYLOAD_BLOCK_ZERO } from "../src/vhdx/bat";
import { checkHeaderSlot, chooseCurrentHeader, HEADER_OFFSETS, serializeHeader } from "../src/vhdx/header";
import { LOG_SECTOR_SIZE, LogUpdate, serializeLogEntry } from "../src/vhdx/log/entry";
import { BAT_REGION_GUID, parseRegionTable, REGION_TABLE_OFFSETS, REGION_TABLE_SIZE } from "../src/vhdx/regionTable";

const path = process.argv[2];
const b = new Uint8Array(readFileSync(path));
const slots = [0, 1].map((i) => checkHeaderSlot(b.subarray(HEADER_OFFSETS[i], HEADER_OFFSETS[i] + 4096), i as 0 | 1));
const current = chooseCurrentHeader(slots);
if (current < 0) throw new Error("no valid header");
const h = slots[current].header!;
if (h.logLength !== 1024 * 1024) throw new Error(`expected a 1 MiB log, found ${h.logLength}`);
const rt = parseRegionTable(
  b.subarray(REGION_TABLE_OFFSETS[0], REGION_TABLE_OFFSETS[0] + REGION_TABLE_SIZE),
  REGION_TABLE_OFFSETS[0],
);
const bat = rt.entries.find((e) => e.guid === BAT_REGION_GUID)!;
if (bat.length < 252 * LOG_SECTOR_SIZE) throw new Error("the BAT is too small for a full log; use a larger image");

// With 1 MiB blocks and 512-byte sectors the chunk ratio is 4096: every 4097th entry is a sector bitmap entry (left 0).
const zeroState = encodeBatEntry(PAYLOAD_BLOCK_ZERO, 0);
const sector = (i: number): LogUpdate => {
  const data = new Uint8Array(LOG_SECTOR_SIZE);
  for (let k = 0; k < LOG_SECTOR_SIZE / 8; k++) {
    const index = (i * LOG_SECTOR_SIZE) / 8 + k;
    if (index % 4097 !== 4096) data.set(zeroState, k * 8);
  }
  return { kind: "data", fileOffset: bat.fileOffset + i * LOG_SECTOR_SIZE, data };
};
const logGuid = "0d3c2b1a-5e4f-4a6b-8c7d-9e8f7a6b5c4d";
const size = b.length;
const common = { tail: 0, logGuid, flushedFileOffset: size, lastFileOffset: size };
const e1 = serializeLogEntry({
  ...common,
  sequenceNumber: 10n,
  updates: Array.from({ length: 126 }, (_, i) => sector(i)),
});
const e2 = serializeLogEntry({
  ...common,
  sequenceNumber: 11n,
  updates: Array.from({ length: 126 }, (_, i) => sector(126 + i)),
});
b.set(e1, h.logOffset);
b.set(e2, h.logOffset + e1.length);
const next = serializeHeader({ ...h, sequenceNumber: h.sequenceNumber + 1n, logGuid });
b.set(next, HEADER_OFFSETS[0]);
b.set(next, HEADER_OFFSETS[1]);
writeFileSync(path, b);
