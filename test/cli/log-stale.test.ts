/**
 * `vhdx log` on entries an earlier session left in the ring. §2.3.1.1: an entry whose LogGuid is
 * not the header's MUST NOT be taken as valid, yet an intact one (checksum and every other rule
 * holding) is history, not damage: it is reported "stale", and only a damaged one "invalid".
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createQemuImage } from "../helpers/qemu";
import { runOk } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "vhdx.cjs");
const vhdx = (...args: string[]) => runOk(process.execPath, [BIN, ...args]).stdout;

interface LogJson {
  logGuid: string;
  logOffset: number;
  entries: {
    position: number;
    valid: boolean;
    stale: boolean;
    checksumOk: boolean;
    logGuidMatch: boolean;
    reason: string | null;
  }[];
}

/** §2.3.1.1: LogGuid sits at byte 32 of the entry header (after Signature, Checksum, EntryLength, Tail, SequenceNumber, DescriptorCount, Reserved). */
function entryLogGuidBytes(file: Buffer, entryOffset: number): Buffer {
  return file.subarray(entryOffset + 32, entryOffset + 48);
}

describe.skipIf(missingTools("qemu-img"))("vhdx log: entries of an earlier LogGuid", () => {
  const tmp = useTempDir("vhdx-logstale-");

  it("reports an intact earlier entry as stale and a damaged one as invalid", () => {
    const img = createQemuImage({ path: tmp.path("a.vhdx"), sizeBytes: 8 << 20, blockSizeMiB: 1, logSizeMiB: 1 });
    const patch = tmp.path("p.bin");
    writeFileSync(patch, Buffer.alloc(4096, 0x5a));
    // The write goes through the log; on close the header's LogGuid is cleared, the entry stays.
    vhdx("write", img, "--offset", "0", "--input", patch);

    const r = JSON.parse(vhdx("log", img, "--json")) as LogJson;
    expect(r.entries.length).toBeGreaterThan(0);
    const e = r.entries[0];
    const onDisk = entryLogGuidBytes(readFileSync(img), r.logOffset + e.position);
    expect(onDisk.equals(Buffer.alloc(16))).toBe(false); // written under a real LogGuid
    expect(r.logGuid).toBe("00000000-0000-0000-0000-000000000000"); // which the header no longer carries
    expect(e).toMatchObject({ valid: false, stale: true, checksumOk: true, logGuidMatch: false });
    const text = vhdx("log", img);
    expect(text).toContain("stale (earlier LogGuid)");
    expect(text).not.toContain("invalid:");

    // One flipped byte inside the entry breaks its checksum: damage, not history.
    const bytes = readFileSync(img);
    bytes[r.logOffset + e.position + 4096 + 100] ^= 0xff;
    writeFileSync(img, bytes);
    const d = (JSON.parse(vhdx("log", img, "--json")) as LogJson).entries[0];
    expect(d).toMatchObject({ valid: false, stale: false, checksumOk: false, logGuidMatch: false });
    const damaged = vhdx("log", img);
    expect(damaged).toContain("invalid: entry LogGuid");
    expect(damaged).not.toContain("stale (earlier LogGuid)");
  });
});
