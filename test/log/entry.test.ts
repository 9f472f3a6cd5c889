import { describe, expect, it } from "vitest";
import { crc32cWithZeroField } from "../../src/vhdx/crc32c";
import {
  descriptorOffset,
  descriptorSectorCount,
  ENTRY_HEADER_SIZE,
  LOG_SECTOR_SIZE,
  parseDataSector,
  parseDescriptor,
  parseLogEntryHeader,
  restoreSector,
  serializeDataDescriptor,
  serializeDataSector,
  serializeLogEntry,
  serializeLogEntryHeader,
  serializeZeroDescriptor,
  splitSector,
} from "../../src/vhdx/log/entry";
import { dataUpdate, LOG_GUID, sectorOf, TARGET, zeroUpdate, expectBytes } from "./builder";

describe("log entry structures (§2.3.1)", () => {
  it("round-trips the entry header with the 4-byte DescriptorCount and 4 reserved bytes", () => {
    const h = {
      checksum: 0xdeadbeef,
      entryLength: 3 * 4096,
      tail: 8192,
      sequenceNumber: 0x1234567890abcdefn,
      descriptorCount: 2,
      reserved: 0,
      logGuid: LOG_GUID,
      flushedFileOffset: 5 * 1024 * 1024 * 1024 * 1024,
      lastFileOffset: 6 * 1024 * 1024,
    };
    const b = serializeLogEntryHeader(h);
    expect(b.length).toBe(ENTRY_HEADER_SIZE);
    expect(String.fromCharCode(...b.subarray(0, 4))).toBe("loge");
    // Layout: DescriptorCount at 24 (4 bytes), Reserved at 28, LogGuid at 32, offsets at 48 and 56.
    expect(new DataView(b.buffer).getUint32(24, true)).toBe(2);
    expect(new DataView(b.buffer).getUint32(48, true)).toBe(0);
    expect(new DataView(b.buffer).getUint32(52, true)).toBe(5 * 256);
    expect(parseLogEntryHeader(b)).toEqual({ signature: "loge", ...h });
  });

  it("round-trips a zero descriptor", () => {
    const d = { reserved: 0, zeroLength: 3 * 4096, fileOffset: 0x3_0000_1000, sequenceNumber: 9n };
    const b = serializeZeroDescriptor(d);
    expect(b.length).toBe(32);
    expect(parseDescriptor(b)).toEqual({ type: "zero", signature: "zero", ...d });
  });

  it("round-trips a data descriptor", () => {
    const d = {
      trailingBytes: new Uint8Array([1, 2, 3, 4]),
      leadingBytes: new Uint8Array([5, 6, 7, 8, 9, 10, 11, 12]),
      fileOffset: 0x20_0000,
      sequenceNumber: 0xffff_ffff_0000_0001n,
    };
    const b = serializeDataDescriptor(d);
    expect(String.fromCharCode(...b.subarray(0, 4))).toBe("desc");
    expect([...b.subarray(4, 8)]).toEqual([1, 2, 3, 4]);
    expect(parseDescriptor(b)).toEqual({ type: "data", signature: "desc", ...d });
  });

  it("reports an unknown descriptor signature instead of guessing", () => {
    const b = serializeZeroDescriptor({ reserved: 0, zeroLength: 4096, fileOffset: 4096, sequenceNumber: 1n });
    b[0] = 0x71;
    expect(parseDescriptor(b).type).toBe("unknown");
  });

  it("round-trips a data sector with SequenceHigh first and SequenceLow last", () => {
    const s = { sequenceHigh: 0x01020304, data: new Uint8Array(4084).fill(0x5a), sequenceLow: 0x0a0b0c0d };
    const b = serializeDataSector(s);
    expect(b.length).toBe(4096);
    expect(String.fromCharCode(...b.subarray(0, 4))).toBe("data");
    expect(new DataView(b.buffer).getUint32(4092, true)).toBe(0x0a0b0c0d);
    expect(parseDataSector(b)).toEqual({ signature: "data", ...s });
  });

  it("restores LeadingBytes and TrailingBytes: split then restore gives the update back", () => {
    const update = sectorOf(0x77, 42);
    const { descriptor, sector } = splitSector(update, 4096, 0x5_0000_0007n);
    expect(sector.sequenceHigh).toBe(5);
    expect(sector.sequenceLow).toBe(7);
    expect([...descriptor.leadingBytes]).toEqual([...update.subarray(0, 8)]);
    expect([...descriptor.trailingBytes]).toEqual([...update.subarray(4092)]);
    expectBytes(restoreSector(descriptor, sector), update);
  });

  it("places descriptors: 126 after the header, then 128 a sector", () => {
    expect(descriptorSectorCount(0)).toBe(1);
    expect(descriptorSectorCount(126)).toBe(1);
    expect(descriptorSectorCount(127)).toBe(2);
    expect(descriptorSectorCount(254)).toBe(2);
    expect(descriptorSectorCount(255)).toBe(3);
    expect(descriptorSectorCount(0xffffffff)).toBe(1 + Math.ceil((0xffffffff - 126) / 128));
    expect(descriptorOffset(0)).toBe(64);
    expect(descriptorOffset(125)).toBe(64 + 125 * 32);
    expect(descriptorOffset(126)).toBe(4096);
    expect(descriptorOffset(253)).toBe(4096 + 127 * 32);
    expect(descriptorOffset(254)).toBe(8192);
  });

  it("serializes a whole entry: EntryLength, data sectors in order, CRC over the entry", () => {
    const updates = [dataUpdate(TARGET, 1), zeroUpdate(TARGET + 4096, 8192), dataUpdate(TARGET + 16384, 2)];
    const e = serializeLogEntry({
      tail: 0,
      sequenceNumber: 3n,
      logGuid: LOG_GUID,
      flushedFileOffset: 0,
      lastFileOffset: 0,
      updates,
    });
    expect(e.length).toBe(3 * LOG_SECTOR_SIZE);
    const h = parseLogEntryHeader(e);
    expect(h.entryLength).toBe(e.length);
    expect(h.descriptorCount).toBe(3);
    expect(h.checksum).toBe(crc32cWithZeroField(e, 4));
    const d2 = parseDescriptor(e, descriptorOffset(2));
    expect(d2.type).toBe("data");
    if (d2.type !== "data") return;
    const sector = parseDataSector(e, 2 * LOG_SECTOR_SIZE);
    expectBytes(restoreSector(d2, sector), (updates[2] as { data: Uint8Array }).data);
  });
});
