import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { LogRing } from "../../src/vhdx/log/ring";
import { validateEntry } from "../../src/vhdx/log/validate";
import { buildEntry, dataUpdate, Defect, LOG_GUID, LOG_OFFSET, TARGET, zeroUpdate } from "./builder";

const ctx = { logGuid: LOG_GUID, logOffset: LOG_OFFSET };

function ringWith(entry: Uint8Array, position: number, size = MiB): LogRing {
  const bytes = new Uint8Array(size);
  const first = Math.min(entry.length, size - position);
  bytes.set(entry.subarray(0, first), position);
  bytes.set(entry.subarray(first), 0);
  return LogRing.fromBytes(bytes, size);
}

function check(defect: Defect | undefined, updates = [dataUpdate(TARGET, 0x11), zeroUpdate(TARGET + 4096, 8192)]) {
  const e = buildEntry({ sequenceNumber: 7n, updates, defect }, 4096);
  return validateEntry(ringWith(e, 4096), 4096, ctx);
}

describe("log entry validation (§2.3.1)", () => {
  it("accepts a well-formed entry and reports its fields", async () => {
    const r = await check(undefined);
    expect(r.problems).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.checksumOk).toBe(true);
    expect(r.logGuidMatch).toBe(true);
    expect(r.sequenceNumber).toBe(7n);
    expect(r.tail).toBe(4096);
    expect(r.descriptors.map((d) => [d.type, d.fileOffset, d.length])).toEqual([
      ["data", TARGET, 4096],
      ["zero", TARGET + 4096, 8192],
    ]);
  });

  const cases: [Defect, RegExp, unknown?][] = [
    ["signature", /signature is "Loge"/],
    ["entryLengthUnaligned", /EntryLength .* not a non-zero multiple of 4 KiB/],
    ["entryLengthZero", /EntryLength 0x0 is not/],
    ["entryLengthTooBig", /EntryLength .* exceeds the log size/],
    ["descriptorCountHuge", /DescriptorCount 4294967295 needs .* descriptor sectors but EntryLength holds only 2/],
    ["logGuid", /LogGuid 11111111-.* differs from the header's LogGuid/],
    ["sequenceZero", /SequenceNumber is 0/],
    ["reserved", /Reserved field is 0x7/],
    ["descriptorSequence", /descriptor 0 SequenceNumber 6 differs from the entry's 7/],
    ["descriptorSignature", /descriptor 0 signature is "xesc"/],
    ["dataSignature", /data sector .* signature "Data"/],
    ["sequenceHigh", /carries sequence number 4294967303 .* the entry's is 7/],
    ["sequenceLow", /carries sequence number 6 .* the entry's is 7/],
    ["checksum", /checksum .* does not match the computed/],
    ["tailUnaligned", /Tail 0x1200 is not a multiple of 4 KiB/],
    ["tailOutside", /Tail 0x10_0000 lies outside the log/],
    ["fileOffsetUnaligned", /descriptor 0 FileOffset 0x20_0200 is not a multiple of 4 KiB/],
    ["flushedUnaligned", /FlushedFileOffset 0x40_1000 is not a multiple of 1 MiB/],
    ["lastUnaligned", /LastFileOffset 0x40_1000 is not a multiple of 1 MiB/],
    ["targetsHeader", /inside the file identifier and headers/],
    ["targetsLog", /inside the log itself/],
  ];
  for (const [defect, reason] of cases) {
    it(`rejects ${defect} with a readable reason`, async () => {
      const r = await check(defect);
      expect(r.valid).toBe(false);
      expect(r.problems.join("\n")).toMatch(reason);
      expect(r.reason).not.toBeNull();
    });
  }

  it("rejects a zero descriptor whose ZeroLength is not a multiple of 4 KiB, and one with Reserved set", async () => {
    const zeroOnly = [zeroUpdate(TARGET, 4096)];
    expect((await check("zeroLengthUnaligned", zeroOnly)).problems.join()).toMatch(
      /ZeroLength 0x3e8 is not a multiple of 4 KiB/,
    );
    expect((await check("zeroReserved", zeroOnly)).problems.join()).toMatch(/\(zero\) Reserved field is 0x1/);
  });

  it("rejects a DescriptorCount whose data sectors do not fit in EntryLength", async () => {
    // One more descriptor than written: it reads a zeroed slot, and its data sector would lie past the entry.
    const r = await check("descriptorCountPastData", [dataUpdate(TARGET, 1)]);
    expect(r.valid).toBe(false);
    expect(r.problems.join()).toMatch(
      /descriptor 1 signature is "\\u0000\\u0000\\u0000\\u0000", expected "desc" or "zero"/,
    );
  });

  it("rejects a hostile DescriptorCount of 2^32 - 1 without walking it", async () => {
    const e = buildEntry({ sequenceNumber: 7n, defect: "descriptorCountHuge" }, 0);
    const r = await validateEntry(ringWith(e, 0), 0, ctx);
    expect(r.valid).toBe(false);
    expect(r.descriptors.length).toBe(0);
  });

  it("bounds descriptor work by EntryLength: a full-ring entry claiming many descriptors is read only inside the ring", async () => {
    const e = buildEntry({ sequenceNumber: 7n }, 0);
    const dv = new DataView(e.buffer);
    dv.setUint32(8, MiB, true); // EntryLength = the whole ring
    dv.setUint32(24, 126 + 255 * 128, true); // exactly 256 descriptor sectors: fits, all but the first slot are zeros
    const r = await validateEntry(ringWith(e, 0), 0, ctx);
    expect(r.valid).toBe(false);
    expect(r.descriptors.length).toBe(126 + 255 * 128);
    expect(r.problems.some((p) => /more descriptor problems/.test(p))).toBe(true);
  });

  it("accepts an entry that wraps around the end of the ring", async () => {
    const updates = [dataUpdate(TARGET, 1), dataUpdate(TARGET + 8192, 2), dataUpdate(TARGET + 16384, 3)];
    const pos = MiB - 2 * 4096;
    const e = buildEntry({ sequenceNumber: 3n, updates }, pos);
    const r = await validateEntry(ringWith(e, pos), pos, ctx);
    expect(r.problems).toEqual([]);
    expect(r.descriptors.map((d) => d.dataSectorPosition)).toEqual([MiB - 4096, 0, 4096]);
  });

  it("accepts a descriptor list continuing into a second and third descriptor sector", async () => {
    const updates = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0 ? zeroUpdate(TARGET + i * 8192, 4096) : dataUpdate(TARGET + i * 8192, i & 0xff),
    );
    const e = buildEntry({ sequenceNumber: 9n, updates }, 0);
    const r = await validateEntry(ringWith(e, 0), 0, ctx);
    expect(r.problems).toEqual([]);
    expect(r.descriptors.length).toBe(300);
    expect(r.descriptors[299].fileOffset).toBe(TARGET + 299 * 8192);
  });
});
