import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createImage, CreateOptions, resolveCreateOptions, parentInfoOf } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { GiB, MiB, TiB } from "../../src/vhdx/bytes";
import { PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_NOT_PRESENT, payloadEntryIndex } from "../../src/vhdx/bat";
import { locatorValue } from "../../src/vhdx/parentLocator";
import { VhdxError } from "../../src/vhdx/errors";
import { hasTool, qemuCheck, qemuInfo, qemuToRaw, tempDir, vhdiinfo } from "./helpers";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function createFile(name: string, o: CreateOptions): Promise<string> {
  const path = tmp.path(name);
  const f = await NodeFileBackend.open(path, { readOnly: false, create: "overwrite" });
  await createImage(f, o);
  await f.close();
  return path;
}

const variants: [string, CreateOptions][] = [
  ["dynamic 64 MiB, 32 MiB blocks", { type: "dynamic", virtualSize: 64 * MiB }],
  [
    "dynamic 1 MiB blocks, 4096 logical",
    { type: "dynamic", virtualSize: 40 * MiB, blockSize: MiB, logicalSectorSize: 4096 },
  ],
  [
    "dynamic 256 MiB blocks, 512 physical, 3 MiB log",
    { type: "dynamic", virtualSize: 3 * GiB + 512, blockSize: 256 * MiB, physicalSectorSize: 512, logSize: 3 * MiB },
  ],
  ["fixed 20 MiB, 8 MiB blocks", { type: "fixed", virtualSize: 20 * MiB, blockSize: 8 * MiB }],
  [
    "fixed 4096 logical 2 MiB blocks",
    { type: "fixed", virtualSize: 9 * MiB, blockSize: 2 * MiB, logicalSectorSize: 4096 },
  ],
  ["dynamic 2 TiB", { type: "dynamic", virtualSize: 2 * TiB }],
];

describe("create", () => {
  for (const [name, o] of variants) {
    it(`${name}: opens with the asked parameters`, async () => {
      const mem = new MemoryBackend();
      const layout = await createImage(mem, o);
      const img = await openImage(mem);
      const r = resolveCreateOptions(o);
      expect(img.virtualSize).toBe(r.virtualSize);
      expect(img.blockSize).toBe(r.blockSize);
      expect(img.params.logicalSectorSize).toBe(r.logicalSectorSize);
      expect(img.params.physicalSectorSize).toBe(r.physicalSectorSize);
      expect(img.header.logLength).toBe(r.logSize);
      expect(img.diskType).toBe(o.type);
      expect(img.warnings).toEqual([]);
      expect(img.fileSize).toBe(layout.fileSize);
      const g = img.geometry;
      const last = payloadEntryIndex(g, g.dataBlocksCount - 1);
      expect(img.bat.state(last)).toBe(o.type === "fixed" ? PAYLOAD_BLOCK_FULLY_PRESENT : PAYLOAD_BLOCK_NOT_PRESENT);
      // Everything is 1 MiB aligned (§2.1) and nothing overlaps.
      for (const e of img.registry.extents()) expect(e.start % MiB).toBe(0);
      expect(img.registry.overlaps()).toEqual([]);
      // A fresh disk reads as zeros, including its last sector.
      const ss = r.logicalSectorSize;
      expect((await img.read(r.virtualSize - ss, ss)).every((b) => b === 0)).toBe(true);
    });
  }

  describe.skipIf(!hasTool("qemu-img"))("QEMU reads what we create", () => {
    // QEMU's VHDX driver refuses logical sectors other than 512 bytes ("Operation not supported").
    for (const [name, o] of variants.filter(([, v]) => (v.logicalSectorSize ?? 512) === 512)) {
      it(`${name}: qemu-img check is clean and info reports the size`, async () => {
        const path = await createFile(name.replace(/\W+/g, "_") + ".vhdx", o);
        const c = qemuCheck(path);
        expect(c.out).toMatch(/No errors were found/);
        expect(c.status).toBe(0);
        const info = qemuInfo(path);
        expect(info.format).toBe("vhdx");
        expect(info["virtual-size"]).toBe(o.virtualSize);
        expect(info["cluster-size"]).toBe(o.blockSize ?? 32 * MiB);
      });
    }
    it("QEMU reads a created fixed image as zeros of the right length", async () => {
      const path = await createFile("zeros.vhdx", { type: "fixed", virtualSize: 3 * MiB, blockSize: MiB });
      qemuToRaw(path, tmp.path("zeros.raw"));
      const raw = readFileSync(tmp.path("zeros.raw"));
      expect(raw.length).toBe(3 * MiB);
      expect(raw.every((b) => b === 0)).toBe(true);
    });
  });

  describe.skipIf(!hasTool("vhdiinfo"))("libvhdi reads what we create", () => {
    for (const [name, o] of variants) {
      it(`${name}: vhdiinfo reports the sizes`, async () => {
        const path = await createFile("v_" + name.replace(/\W+/g, "_") + ".vhdx", o);
        const out = vhdiinfo(path);
        const r = resolveCreateOptions(o);
        expect(out).toMatch(new RegExp(`Media size\\s*:.*\\(${r.virtualSize} bytes\\)`));
        expect(out).toMatch(new RegExp(`Bytes per sector\\s*:\\s*${r.logicalSectorSize} bytes`));
        expect(out).toMatch(/Format\s*:\s*VHDX \(version 2\)/);
        expect(out).toMatch(o.type === "fixed" ? /Disk type\s*:\s*Fixed/ : /Disk type\s*:\s*Dynamic/);
      });
    }
  });

  it("a differencing image carries the parent locator and the parent's virtual disk items", async () => {
    const parent = new MemoryBackend();
    await createImage(parent, { type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB, logicalSectorSize: 4096 });
    const p = await openImage(parent);
    const child = new MemoryBackend();
    await createImage(child, {
      type: "differencing",
      parent: parentInfoOf(p, { relativePath: "..\\base\\p.vhdx", absoluteWin32Path: "\\\\?\\C:\\vms\\base\\p.vhdx" }),
    });
    const c = await openImage(child);
    expect(c.diskType).toBe("differencing");
    expect(c.virtualSize).toBe(8 * MiB);
    expect(c.params.logicalSectorSize).toBe(4096);
    expect(c.params.virtualDiskId).toBe(p.params.virtualDiskId);
    const pl = c.params.parentLocator!;
    expect(pl.locatorType).toBe("b04aefb7-d19e-4a81-b789-25b8e9445913");
    expect(locatorValue(pl, "parent_linkage")).toBe(`{${p.header.dataWriteGuid}}`);
    expect(locatorValue(pl, "relative_path")).toBe("..\\base\\p.vhdx");
    expect(locatorValue(pl, "absolute_win32_path")).toBe("\\\\?\\C:\\vms\\base\\p.vhdx");
    // §2.5: a differencing BAT ends with a sector bitmap entry.
    expect(c.geometry.totalBatEntries).toBe(c.geometry.sectorBitmapBlocksCount * (c.geometry.chunkRatio + 1));
  });

  it("a 64 TiB dynamic image is created with its 16 MiB BAT and opens", async () => {
    const mem = new MemoryBackend();
    const layout = await createImage(mem, { type: "dynamic", virtualSize: 64 * TiB });
    expect(layout.batLength).toBe(16 * MiB + MiB);
    const img = await openImage(mem);
    expect(img.virtualSize).toBe(64 * TiB);
    expect(img.bat.length).toBe(2 * 1024 * 1024 + Math.floor((2 * 1024 * 1024 - 1) / 128));
  });

  it.each([
    [{ type: "dynamic", virtualSize: 64 * TiB + 512 }, /64 TiB/],
    [{ type: "dynamic", virtualSize: 1000 }, /multiple of the logical sector size/],
    [{ type: "dynamic", virtualSize: MiB, blockSize: 3 * MiB }, /power of two/],
    [{ type: "dynamic", virtualSize: MiB, blockSize: 512 * MiB }, /power of two/],
    [{ type: "dynamic", virtualSize: MiB, logSize: MiB + 4096 }, /log size/],
    [{ type: "dynamic", virtualSize: 8192, logicalSectorSize: 1024 }, /512 or 4096/],
    [{ type: "differencing", virtualSize: MiB }, /needs a parent/],
  ] as [CreateOptions, RegExp][])("refuses %o", async (o, msg) => {
    const err = await createImage(new MemoryBackend(), o).catch((e) => e);
    expect(err).toBeInstanceOf(VhdxError);
    expect((err as VhdxError).message).toMatch(msg);
  });
});
