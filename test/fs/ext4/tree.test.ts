/**
 * ext4 (1 KiB blocks, metadata_csum, extents, a two-level hashed directory) and ext2 (1 KiB
 * blocks, block maps to the triple-indirect level, hashed directories without checksums) made by mke2fs -d from
 * the full generated tree, read from the raw image and from a VHDX made by qemu-img convert —
 * compared with the tree and with The Sleuth Kit.
 */
import { afterAll, beforeAll, describe } from "vitest";
import { openImage } from "../../../src/vhdx/image";
import { NodeFileBackend } from "../../../src/node/fileBackend";
import type { BlockDevice } from "../../../src/fs/types";
import { runOk } from "../../helpers/run";
import { useTempDir } from "../../helpers/tmp";
import { missingTools, requireTool } from "../../helpers/tools";
import { type BuiltImage, compareImage, type Mounted, mountAndList, rawDevice } from "./compare";
import { addFragmented, buildTree, type Expected } from "./fixture";
import { makeImage } from "./fixture";

const skip = missingTools("mke2fs", "e2fsck", "debugfs", "fls", "icat", "istat", "qemu-img");

/** A VHDX's virtual disk as a BlockDevice. */
async function vhdxDevice(path: string): Promise<BlockDevice & { close(): Promise<void> }> {
  const img = await openImage(await NodeFileBackend.open(path, { readOnly: true }));
  return { size: img.virtualSize, read: (o, n) => img.read(o, n), close: () => img.close() };
}

const CONFIGS = [
  // 1 KiB blocks make the large directory a two-level hash tree (dx_root over dx_nodes) with checksums.
  { name: "ext4, 1 KiB blocks", type: "ext4", options: ["-t", "ext4", "-b", "1024"], blockSize: 1024 },
  { name: "ext2, 1 KiB blocks", type: "ext2", options: ["-t", "ext2", "-b", "1024"], blockSize: 1024 },
];

describe.skipIf(skip)("ext images from the full tree", () => {
  const tmp = useTempDir("ext4-tree-");
  let expected: Map<string, Expected>;
  beforeAll(() => {
    expected = buildTree(tmp.path("tree"), true);
  }, 120_000);

  for (const c of CONFIGS) {
    for (const through of ["raw image", "VHDX"] as const) {
      describe(`${c.name}, through the ${through}`, () => {
        let built: BuiltImage;
        let mounted: Mounted;
        const slug = c.name.replace(/\W+/g, "-");
        beforeAll(async () => {
          const image = tmp.path(`${slug}.img`);
          if (through === "raw image") {
            makeImage(tmp.path("tree"), image, 384, c.options);
            const frag = addFragmented(image, tmp.dir, c.blockSize);
            expected = new Map([...expected, ...frag]);
          }
          const all = new Map(expected);
          const vhdx = tmp.path(`${slug}.vhdx`);
          if (through === "VHDX") runOk(requireTool("qemu-img"), ["convert", "-f", "raw", "-O", "vhdx", image, vhdx]);
          built = { image, expected: all, device: through === "VHDX" ? () => vhdxDevice(vhdx) : rawDevice(image) };
          mounted = await mountAndList(built);
        }, 180_000);
        afterAll(async () => {
          await mounted?.device.close?.();
        });
        compareImage(() => ({ built, mounted }), {
          type: c.type,
          tsk: through === "raw image",
          extents: c.type === "ext4",
        });
      });
    }
  }
});
