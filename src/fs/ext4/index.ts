/**
 * The ext2/3/4 driver: recognised by the superblock magic 0xEF53 at byte 1024 + 0x38, mounted
 * read-only over any BlockDevice.
 */
import type { BlockDevice, FileSystem, FsDriver } from "../types";
import { ExtFileSystem } from "./fileSystem";
import { EXT4_SUPER_MAGIC, SUPERBLOCK_OFFSET } from "./superblock";
import { ExtVolume } from "./volume";

/** s_magic's place in the primary superblock. */
const MAGIC_AT = SUPERBLOCK_OFFSET + 0x38;

export const extDriver: FsDriver = {
  name: "ext",
  probe(head: Uint8Array): boolean {
    return head.length >= MAGIC_AT + 2 && (head[MAGIC_AT] | (head[MAGIC_AT + 1] << 8)) === EXT4_SUPER_MAGIC;
  },
  async mount(device: BlockDevice): Promise<FileSystem> {
    return new ExtFileSystem(await ExtVolume.open(device));
  },
};

export { ExtFileSystem } from "./fileSystem";
