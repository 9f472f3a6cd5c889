/**
 * The editor's sample is made by the engine: it must be what the Open sample promise says — a
 * GPT disk with data, ZERO and UNMAPPED blocks, and a log that still needs replay — and QEMU's
 * recovery of it must give the bytes the engine shows read-only.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { makeSample } from "../../src/node/makeSample";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openImage } from "../../src/vhdx/image";
import { qemuCheck, qemuConvertToRaw } from "../helpers/qemu";
import { missingTools } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

describe.skipIf(missingTools("qemu-img"))("the bundled sample", () => {
  const tmp = useTempDir("vhdx-sample-");

  it("has a partition table, data, several block states and a log to replay; QEMU recovers the bytes the engine shows", async () => {
    const path = tmp.path("sample.vhdx");
    await makeSample(path);
    const before = readFileSync(path);
    const img = await openImage(await NodeFileBackend.open(path), { readOnly: true });
    try {
      const info = img.info();
      expect(info.diskType).toBe("dynamic");
      expect(info.log.needsReplay).toBe(true);
      expect(info.bat.payload.FULLY_PRESENT).toBeGreaterThan(5);
      expect(info.bat.payload.ZERO).toBeGreaterThan(0);
      expect(info.bat.payload.UNMAPPED).toBeGreaterThan(0);
      const lba1 = await img.read(512, 8);
      expect(Buffer.from(lba1).toString("latin1")).toBe("EFI PART");
      const mbr = await img.read(510, 2);
      expect([...mbr]).toEqual([0x55, 0xaa]);
      const copy = tmp.path("qemu.vhdx");
      copyFileSync(path, copy);
      expect(qemuCheck(copy, true).exitCode).toBe(0);
      const theirs = qemuConvertToRaw(copy);
      const ours = await img.read(0, img.virtualSize);
      expect(Buffer.compare(Buffer.from(ours), theirs)).toBe(0);
      // The last write is only in the log: without the replay its bytes would read as zeros.
      const dirty = await img.read(200 * 1024 * 1024 + 512, 16);
      expect(Buffer.from(dirty).toString("latin1")).toBe("This sector was ");
    } finally {
      await img.close();
    }
    expect(Buffer.compare(readFileSync(path), before), "viewing wrote to the sample").toBe(0);
  });
});
