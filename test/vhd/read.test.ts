/**
 * VHD reads against the peers: disks made by qemu-img (-f vpc, both subformats, with and without
 * force_size), written by qemu-io, must read byte for byte as `qemu-img convert -O raw` and The
 * Sleuth Kit's img_cat (libvhdi) read them; sizes as vhdiinfo reports. Differencing disks are
 * hand-built (QEMU makes none): sectors whose bitmap bit is set come from the child.
 */
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openVhdWithParents } from "../../src/node/resolveVhdParent";
import { closeVhdChain } from "../../src/vhd/chain";
import { detectFormat, openVhd } from "../../src/vhd/open";
import { MemoryBackend } from "../../src/vhdx/io";
import { buildDynamicVhd, writeVhd } from "../helpers/buildVhd";
import { expectVhdxErrorAsync } from "../helpers/expectError";
import { patternBytes } from "../helpers/random";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";
import { vhdiinfo } from "../helpers/vhdi";
import { imgCatVhd, qemuIoWriteVpc, qemuVhd, qemuVpcInfo, qemuVpcToRaw } from "../helpers/vhd";

const MiB = 1024 * 1024;
const tmp = useTempDir("vhd-read-");

const SHAPES = [
  { subformat: "dynamic" as const, size: 10 * MiB, forceSize: false },
  { subformat: "dynamic" as const, size: 7 * MiB + 512, forceSize: true },
  { subformat: "fixed" as const, size: 5 * MiB, forceSize: false },
  { subformat: "fixed" as const, size: 3 * MiB + 4096, forceSize: true },
];

describe.skipIf(missingTools("qemu-img", "qemu-io", "img_cat", "vhdiinfo"))("VHDs made by QEMU", () => {
  for (const s of SHAPES) {
    it(`${s.subformat} ${s.size} bytes${s.forceSize ? ", force_size" : ""}: same bytes as qemu-img and img_cat`, async () => {
      const path = qemuVhd(tmp.path(`${s.subformat}-${s.size}.vhd`), s.size, s.subformat, { forceSize: s.forceSize });
      qemuIoWriteVpc(path, [
        { offset: 0, length: 4096, seed: 1 },
        { offset: MiB + 512, length: 300 * 1024, seed: 2 },
        { offset: 2 * MiB - 1024, length: 8192, seed: 3 },
        { offset: 3 * MiB - 512, length: 512, seed: 4 },
      ]);
      const io = await NodeFileBackend.open(path, { readOnly: true });
      expect(await detectFormat(io)).toBe("vhd");
      const img = await openVhd(io);
      try {
        expect(img.diskType).toBe(s.subformat);
        expect(img.warnings).toEqual([]);
        const info = qemuVpcInfo(path);
        expect(img.virtualSize).toBe(info["virtual-size"]);
        expect(img.virtualSize).toBe(vhdiinfo(path).mediaSize);
        const ours = await img.read(0, img.virtualSize);
        const qemu = qemuVpcToRaw(path);
        expect(Buffer.from(ours).equals(qemu)).toBe(true);
        expect(Buffer.from(ours).equals(imgCatVhd(path))).toBe(true);
        // A read across a block boundary, and the extents: every zero run reads as zeros.
        expect(
          Buffer.from(await img.read(2 * MiB - 700, 1400)).equals(qemu.subarray(2 * MiB - 700, 2 * MiB + 700)),
        ).toBe(true);
        for await (const e of img.extents(0, img.virtualSize))
          if (e.data === null) expect(qemu.subarray(e.start, e.end).every((b) => b === 0)).toBe(true);
      } finally {
        await img.close();
      }
    });
  }
});

describe("differencing VHDs (hand-built)", () => {
  const bs = 512 * 1024;
  const size = 2 * MiB;
  const parentId = "11111111-2222-3333-4444-555555555555";
  const parentBytes = patternBytes(7, bs);

  it("reads the child's sectors where its bitmap says so, the parent's elsewhere", async () => {
    const dir = tmp.path("");
    writeVhd(
      `${dir}/base.vhd`,
      buildDynamicVhd({
        size,
        blockSize: bs,
        uniqueId: parentId,
        timeStamp: 100,
        blocks: [{ block: 1, present: () => true, data: parentBytes }],
      }),
    );
    const childData = patternBytes(8, bs);
    writeVhd(
      `${dir}/child.vhd`,
      buildDynamicVhd({
        size,
        blockSize: bs,
        uniqueId: "aaaaaaaa-2222-3333-4444-555555555555",
        parent: {
          uniqueId: parentId,
          timeStamp: 100,
          name: "base.vhd",
          locators: [{ code: "W2ru", path: ".\\base.vhd" }],
        },
        blocks: [{ block: 1, present: (s) => s % 3 === 0, data: childData }],
      }),
    );
    const { image, chain } = await openVhdWithParents(`${dir}/child.vhd`);
    try {
      expect(chain).toHaveLength(2);
      expect(image.warnings).toEqual([]);
      const got = await image.read(bs, bs);
      for (let s = 0; s < bs / 512; s++) {
        const want = (s % 3 === 0 ? childData : parentBytes).subarray(s * 512, s * 512 + 512);
        expect(Buffer.from(got.subarray(s * 512, s * 512 + 512)).equals(want)).toBe(true);
      }
      expect((await image.read(0, bs)).every((b) => b === 0)).toBe(true);
    } finally {
      await closeVhdChain(chain);
    }
  });

  it("refuses a loop in the parent chain, and a parent with another unique id", async () => {
    const a = "aaaaaaaa-0000-0000-0000-000000000001";
    const b = "bbbbbbbb-0000-0000-0000-000000000002";
    const link = (self: string, other: string, otherName: string) =>
      buildDynamicVhd({
        size,
        blockSize: bs,
        uniqueId: self,
        parent: { uniqueId: other, timeStamp: 0, name: otherName, locators: [{ code: "W2ru", path: otherName }] },
      });
    writeVhd(tmp.path("a.vhd"), link(a, b, "b.vhd"));
    writeVhd(tmp.path("b.vhd"), link(b, a, "a.vhd"));
    await expectVhdxErrorAsync(
      openVhdWithParents(tmp.path("a.vhd")),
      "CHAIN_INVALID",
      "parent locator entry",
      512 + 576,
    );
    writeVhd(
      tmp.path("c.vhd"),
      link("cccccccc-0000-0000-0000-000000000003", "dddddddd-0000-0000-0000-000000000004", "b.vhd"),
    );
    await expectVhdxErrorAsync(
      openVhdWithParents(tmp.path("c.vhd")),
      "PARENT_MISMATCH",
      "dynamic disk header",
      512 + 40,
    );
    writeVhd(tmp.path("e.vhd"), link("eeeeeeee-0000-0000-0000-000000000005", b, "missing.vhd"));
    await expectVhdxErrorAsync(
      openVhdWithParents(tmp.path("e.vhd")),
      "PARENT_NOT_FOUND",
      "parent locator entry",
      512 + 576,
    );
  });

  it("a dynamic disk opens from the footer copy at offset 0 when the footer at the end is damaged", async () => {
    const bytes = buildDynamicVhd({
      size,
      blockSize: bs,
      uniqueId: parentId,
      blocks: [{ block: 0, present: () => true, data: parentBytes }],
    });
    bytes[bytes.length - 512 + 70] ^= 0xff;
    const img = await openVhd(new MemoryBackend(bytes));
    expect(img.footerOffset).toBe(0);
    expect(img.warnings.map((w) => w.code)).toEqual(["VHD_FOOTER_CHECKSUM"]);
    expect(Buffer.from(await img.read(0, bs)).equals(parentBytes)).toBe(true);
  });
});
