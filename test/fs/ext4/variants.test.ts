/**
 * The layouts mke2fs can make, each from the generated tree (without the large directory, which
 * tree.test.ts covers): ext4 as mke2fs makes it with 4 KiB blocks, ext3 with 2 KiB blocks, inline data, no flex_bg, meta_bg, 32-bit group
 * descriptors, 128-byte inodes, gdt_csum instead of metadata_csum, 64 KiB blocks, ext2 without filetype — each compared
 * with the tree and with The Sleuth Kit.
 */
import { afterAll, beforeAll, describe } from "vitest";
import { useTempDir } from "../../helpers/tmp";
import { missingTools } from "../../helpers/tools";
import { type BuiltImage, compareImage, type Mounted, mountAndList, rawDevice } from "./compare";
import { addFragmented, buildTree, type Expected, makeImage } from "./fixture";

const skip = missingTools("mke2fs", "e2fsck", "debugfs", "fls", "icat", "istat");

const CONFIGS = [
  { name: "ext4, 4 KiB blocks, mke2fs defaults", type: "ext4", options: ["-t", "ext4", "-b", "4096"], blockSize: 4096 },
  { name: "ext3, 2 KiB blocks", type: "ext3", options: ["-t", "ext3", "-b", "2048"], blockSize: 2048 },
  {
    name: "ext4, 1 KiB blocks, inline_data",
    type: "ext4",
    options: ["-t", "ext4", "-b", "1024", "-O", "inline_data"],
    blockSize: 1024,
  },
  {
    name: "ext4, 4 KiB blocks, no flex_bg",
    type: "ext4",
    options: ["-t", "ext4", "-b", "4096", "-g", "8192", "-O", "^flex_bg"],
    blockSize: 4096,
  },
  {
    name: "ext4, meta_bg",
    type: "ext4",
    options: ["-t", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode"],
    blockSize: 1024,
  },
  {
    name: "ext4, 32-bit descriptors",
    type: "ext4",
    options: ["-t", "ext4", "-b", "4096", "-O", "^64bit"],
    blockSize: 4096,
  },
  { name: "ext4, 128-byte inodes", type: "ext4", options: ["-t", "ext4", "-b", "4096", "-I", "128"], blockSize: 4096 },
  {
    name: "ext4, gdt_csum",
    type: "ext4",
    options: ["-t", "ext4", "-b", "4096", "-O", "^metadata_csum,uninit_bg"],
    blockSize: 4096,
  },
  { name: "ext4, 64 KiB blocks", type: "ext4", options: ["-t", "ext4", "-b", "65536"], blockSize: 65536 },
  // Directory entries without a type byte: a listing learns each entry's type from its inode.
  {
    name: "ext2, no filetype",
    type: "ext2",
    options: ["-t", "ext2", "-b", "4096", "-O", "^filetype"],
    blockSize: 4096,
    untypedEntries: true,
  },
];

describe.skipIf(skip)("ext layouts from the tree", () => {
  const tmp = useTempDir("ext4-variants-");
  let tree: Map<string, Expected>;
  beforeAll(() => {
    tree = buildTree(tmp.path("tree"), false);
  }, 120_000);

  for (const c of CONFIGS) {
    describe(c.name, () => {
      let built: BuiltImage;
      let mounted: Mounted;
      beforeAll(async () => {
        const image = tmp.path(`${c.name.replace(/\W+/g, "-")}.img`);
        makeImage(tmp.path("tree"), image, 384, c.options);
        const expected = new Map([...tree, ...addFragmented(image, tmp.dir, c.blockSize)]);
        built = { image, expected, device: rawDevice(image) };
        mounted = await mountAndList(built);
      }, 120_000);
      afterAll(async () => {
        await mounted?.device.close?.();
      });
      compareImage(() => ({ built, mounted }), {
        type: c.type,
        tsk: true,
        extents: c.type === "ext4",
        untypedEntries: "untypedEntries" in c,
      });
    });
  }
});
