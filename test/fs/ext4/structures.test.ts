/**
 * The on-disk structures one by one, against the documents' rules (Documentation/filesystems/
 * ext4/*.rst), published check values, and dumpe2fs reading the same superblock.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryDevice } from "../../../src/fs/device";
import { FsError } from "../../../src/fs/errors";
import { mapBlockMap } from "../../../src/fs/ext4/blockMap";
import { crc16, ext4Checksum } from "../../../src/fs/ext4/checksum";
import { parseDirEntries, recLenFromDisk } from "../../../src/fs/ext4/dirEntry";
import { mapExtentTree, parseExtentNode } from "../../../src/fs/ext4/extentTree";
import { parseInode } from "../../../src/fs/ext4/inode";
import {
  formatUuid,
  groupHasSuper,
  parseSuperblock,
  RO_COMPAT_SPARSE_SUPER,
  type Superblock,
} from "../../../src/fs/ext4/superblock";
import { extDriver } from "../../../src/fs/ext4";
import type { FileSystem } from "../../../src/fs/types";
import { runOk } from "../../helpers/run";
import { useTempDir } from "../../helpers/tmp";
import { missingTools, requireTool } from "../../helpers/tools";
import { makeImage } from "./fixture";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("checksums", () => {
  it("crc32c and crc16 give the published check values for '123456789'", () => {
    // CRC-32C check value 0xE3069283; ext4's form is the raw register, without the final inversion.
    expect(ext4Checksum(0xffffffff, ascii("123456789"))).toBe(~0xe3069283 >>> 0);
    // CRC-16/ARC (the ANSI polynomial, reflected, from zero) check value 0xBB3D.
    expect(crc16(0, ascii("123456789"))).toBe(0xbb3d);
  });
});

describe("inode", () => {
  function inodeBytes(set: (v: DataView) => void, size = 256): Uint8Array {
    const b = new Uint8Array(size);
    const v = new DataView(b.buffer);
    v.setUint16(0x80, 32, true); // i_extra_isize
    set(v);
    return b;
  }

  it("decodes times with the epoch bits and nanoseconds of the extra fields (inodes.rst)", () => {
    const b = inodeBytes((v) => {
      v.setUint32(0x10, 0x80000000, true); // i_mtime: msb set
      v.setUint32(0x88, (1 | (123_456_789 << 2)) >>> 0, true); // epoch 1, 123456789 ns
      v.setUint32(0x8, 0x7fffffff, true); // i_atime, no epoch
      v.setUint32(0x8c, 0, true);
      v.setUint32(0x90, 0xffffffff, true); // i_crtime -1: 1969-12-31T23:59:59
    });
    const inode = parseInode(b);
    // The table's row "0 1 | 1 | 2038-01-19 to 2106-02-07": -2^31 + 2^32 seconds.
    expect(new Date(inode.mtime).toISOString()).toBe("2038-01-19T03:14:08.123Z");
    expect(new Date(inode.atime).toISOString()).toBe("2038-01-19T03:14:07.000Z");
    expect(new Date(inode.crtime!).toISOString()).toBe("1969-12-31T23:59:59.000Z");
  });

  it("a 128-byte inode has no crtime and a 16-bit checksum", () => {
    const inode = parseInode(new Uint8Array(128));
    expect(inode.crtime).toBeNull();
    expect(inode.checksumWide).toBe(false);
    expect(inode.extraIsize).toBe(0);
  });

  it("joins the high halves of size, uid, gid and file ACL", () => {
    const inode = parseInode(
      inodeBytes((v) => {
        v.setUint32(0x4, 5, true);
        v.setUint32(0x6c, 2, true);
        v.setUint16(0x2, 1, true);
        v.setUint16(0x78, 1, true);
        v.setUint16(0x18, 2, true);
        v.setUint16(0x7a, 3, true);
      }),
    );
    expect(inode.size).toBe(2 * 2 ** 32 + 5);
    expect(inode.uid).toBe(65537);
    expect(inode.gid).toBe(3 * 65536 + 2);
  });
});

describe("directory entries", () => {
  it("rec_len of 64 KiB blocks folds the top bits into the low two (directory.rst)", () => {
    expect(recLenFromDisk(65535, 65536)).toBe(65536);
    expect(recLenFromDisk(0, 65536)).toBe(65536);
    expect(recLenFromDisk(1, 65536)).toBe(65536);
    expect(recLenFromDisk(12, 65536)).toBe(12);
    expect(recLenFromDisk(12, 4096)).toBe(12);
  });

  it("reads entries with and without the file type byte, and rejects a rec_len past the block", () => {
    const b = new Uint8Array(64);
    const v = new DataView(b.buffer);
    v.setUint32(0, 12, true);
    v.setUint16(4, 16, true);
    b[6] = 5;
    b[7] = 1;
    b.set(ascii("hello"), 8);
    v.setUint32(16, 0, true);
    v.setUint16(20, 48, true);
    const typed = parseDirEntries(b, true, 4096, "dir", 0);
    expect(typed.map((e) => [e.inode, new TextDecoder().decode(e.name), e.fileType])).toEqual([
      [12, "hello", 1],
      [0, "", 0],
    ]);
    // Without filetype, name_len is 16 bits: 0x0105 = 261 does not fit rec_len 16.
    expect(() => parseDirEntries(b, false, 4096, "dir", 0)).toThrow(FsError);
    v.setUint16(20, 52, true);
    try {
      parseDirEntries(b, true, 4096, "directory block 0 of inode 2", 4096);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FsError);
      expect((e as FsError).structure).toBe("directory block 0 of inode 2");
      expect((e as FsError).offset).toBe(4096 + 16);
    }
  });
});

describe("extent tree", () => {
  function node(depth: number, entries: number[][], max = 4): Uint8Array {
    const b = new Uint8Array(12 + max * 12);
    const v = new DataView(b.buffer);
    v.setUint16(0, 0xf30a, true);
    v.setUint16(2, entries.length, true);
    v.setUint16(4, max, true);
    v.setUint16(6, depth, true);
    entries.forEach((e, i) => {
      const at = 12 + i * 12;
      v.setUint32(at, e[0], true);
      if (depth > 0) v.setUint32(at + 4, e[1], true);
      else {
        v.setUint16(at + 4, e[1], true);
        v.setUint32(at + 8, e[2], true);
      }
    });
    return b;
  }

  it("reads uninitialized extents as runs without blocks (len > 32768)", () => {
    const n = parseExtentNode(node(0, [[0, 32768 + 10, 500]]), "root", 0);
    expect(n.extents[0]).toEqual({ block: 0, len: 10, start: 500, uninit: true });
  });

  it("follows an index to a leaf block, and rejects overlaps and a bad magic with structure and offset", async () => {
    const bs = 1024;
    const leaf = new Uint8Array(bs);
    leaf.set(
      node(
        0,
        [
          [0, 3, 20],
          [10, 2, 40],
        ],
        84,
      ),
    );
    const blocks = new Map([[7, leaf]]);
    const ctx = {
      inode: 12,
      blockSize: bs,
      blocksCount: 100,
      rootOffset: 5000,
      readBlock: async (b: number) => blocks.get(b) ?? new Uint8Array(bs),
    };
    const map = await mapExtentTree(node(1, [[0, 7]]), ctx);
    expect(map.runs).toEqual([
      { logical: 0, count: 3, physical: 20 },
      { logical: 10, count: 2, physical: 40 },
    ]);
    expect(map.mapBlocks).toEqual([7]);
    await expect(
      mapExtentTree(
        node(0, [
          [5, 3, 20],
          [6, 1, 40],
        ]),
        ctx,
      ),
    ).rejects.toThrow(/overlaps/);
    await expect(mapExtentTree(node(0, [[0, 3, 99]]), ctx)).rejects.toMatchObject({
      code: "FS_OUT_OF_RANGE",
      offset: 5000,
    });
    await expect(mapExtentTree(node(1, [[0, 8]]), ctx)).rejects.toMatchObject({
      structure: "extent block 8 of inode 12",
      offset: 8 * bs,
    });
    // An index that points at its own ancestor's block twice is refused, not walked again.
    await expect(
      mapExtentTree(
        node(1, [
          [0, 7],
          [5, 7],
        ]),
        ctx,
      ),
    ).rejects.toThrow(/second time|overlaps/);
  });
});

describe("block map", () => {
  it("maps direct, indirect and double-indirect pointers, zero pointers as holes", async () => {
    const bs = 1024;
    const per = bs / 4;
    const iBlock = new Uint8Array(60);
    const v = new DataView(iBlock.buffer);
    v.setUint32(0, 50, true); // block 0
    v.setUint32(4, 51, true); // block 1 (contiguous with 0)
    v.setUint32(12 * 4, 60, true); // indirect
    v.setUint32(13 * 4, 61, true); // double indirect
    const blocks = new Map<number, Uint8Array>();
    const ptrs = (entries: [number, number][]) => {
      const b = new Uint8Array(bs);
      for (const [i, p] of entries) new DataView(b.buffer).setUint32(i * 4, p, true);
      return b;
    };
    blocks.set(60, ptrs([[0, 70]]));
    blocks.set(61, ptrs([[1, 62]]));
    blocks.set(62, ptrs([[3, 80]]));
    const fileBlocks = 12 + per + 2 * per;
    const map = await mapBlockMap(iBlock, {
      inode: 13,
      blockSize: bs,
      blocksCount: 1000,
      rootOffset: 0,
      fileBlocks,
      readBlock: async (b) => blocks.get(b) ?? new Uint8Array(bs),
    });
    expect(map.runs).toEqual([
      { logical: 0, count: 2, physical: 50 },
      { logical: 12, count: 1, physical: 70 },
      { logical: 12 + per + per + 3, count: 1, physical: 80 },
    ]);
    expect(map.mapBlocks).toEqual([60, 61, 62]);
  });
});

describe("superblock", () => {
  it("sparse_super keeps backups in groups 0, 1 and powers of 3, 5 and 7", () => {
    const sb = { featureCompat: 0, featureRoCompat: RO_COMPAT_SPARSE_SUPER } as Superblock;
    const withSuper = Array.from({ length: 130 }, (_, g) => g).filter((g) => groupHasSuper(sb, g));
    expect(withSuper).toEqual([0, 1, 3, 5, 7, 9, 25, 27, 49, 81, 125]);
  });

  const skip = missingTools("mke2fs", "e2fsck", "dumpe2fs");
  describe.skipIf(skip)("against dumpe2fs", () => {
    const tmp = useTempDir("ext4-sb-");

    it("reads the fields dumpe2fs -h prints", async () => {
      mkdirSync(tmp.path("tree"));
      writeFileSync(join(tmp.path("tree"), "f"), "x");
      const image = tmp.path("a.img");
      makeImage(tmp.path("tree"), image, 8, ["-t", "ext4", "-b", "2048", "-L", "Ünïcode label", "-I", "512"]);
      const out = runOk(requireTool("dumpe2fs"), ["-h", image]).stdout;
      const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(out)![1];
      const bytes = new Uint8Array(readFileSync(image));
      const sb = parseSuperblock(bytes.subarray(1024, 2048));
      expect(sb.blocksCount).toBe(Number(field("Block count")));
      expect(sb.inodesCount).toBe(Number(field("Inode count")));
      expect(1024 << sb.logBlockSize).toBe(Number(field("Block size")));
      expect(sb.inodeSize).toBe(Number(field("Inode size")));
      expect(sb.blocksPerGroup).toBe(Number(field("Blocks per group")));
      expect(formatUuid(sb.uuid)).toBe(field("Filesystem UUID"));
      const fs = await extDriver.mount(new MemoryDevice(bytes));
      expect(fs.label).toBe(field("Filesystem volume name"));
      expect(fs.uuid).toBe(field("Filesystem UUID"));
      expect(fs.blockSize).toBe(2048);
    });

    it("uses a backup superblock when the primary is damaged, and says so", async () => {
      mkdirSync(tmp.path("tree2"));
      writeFileSync(join(tmp.path("tree2"), "kept"), "still here\n");
      const image = tmp.path("b.img");
      makeImage(tmp.path("tree2"), image, 16, ["-t", "ext4", "-b", "1024"]);
      const bytes = new Uint8Array(readFileSync(image));
      bytes[1024 + 0x20] ^= 0xff; // s_blocks_per_group: the checksum no longer matches
      const fs = await extDriver.mount(new MemoryDevice(bytes));
      expect(fs.findings.map((f) => f.code)).toEqual(["EXT4_SUPERBLOCK_BACKUP_USED"]);
      const names: string[] = [];
      for await (const e of fs.readDir(await fs.root())) names.push(e.name);
      expect(names.sort()).toEqual(["kept", "lost+found"]);
    });

    it("finds a damaged directory block, inode and group descriptor by their checksums (crc32c and crc16)", async () => {
      mkdirSync(tmp.path("tree3/d"), { recursive: true });
      for (let i = 0; i < 40; i++) writeFileSync(join(tmp.path("tree3/d"), `file-${i}`), `${i}`);
      for (const [name, options] of [
        ["csum.img", ["-t", "ext4", "-b", "1024"]],
        ["gdt.img", ["-t", "ext4", "-b", "1024", "-O", "^metadata_csum,uninit_bg"]],
      ] as const) {
        const image = tmp.path(name);
        makeImage(tmp.path("tree3"), image, 16, [...options]);
        const clean = new Uint8Array(readFileSync(image));
        const fs = await extDriver.mount(new MemoryDevice(clean));
        expect(fs.findings).toEqual([]);
        const d = (await collect(fs.readDir(await fs.root()))).find((e) => e.name === "d")!;
        const dirBlock = (await collect(fs.extents(d)))[0].deviceOffset!;
        const file = (await collect(fs.readDir(d)))[0];
        const inodeOwner = await fs.ownerOf(dirBlock); // the directory itself
        expect(inodeOwner).toEqual({ kind: "structure", structure: "directory", path: "d" });

        const damaged = clean.slice();
        damaged[dirBlock + 12 + 8] ^= 1; // inside the name of the entry after "."
        damaged[1024 * 2 + 32 * 0 + 0xc] ^= 1; // bg_free_blocks_count_lo of group 0 (1 KiB blocks: table at block 2)
        const fs2 = await extDriver.mount(new MemoryDevice(damaged));
        expect(fs2.findings.map((f) => f.code)).toEqual(["EXT4_GROUP_DESCRIPTOR_CHECKSUM"]);
        const listed = await collect(fs2.readDir(d));
        if (name === "csum.img") {
          expect(listed[0].findings?.map((f) => f.code)).toEqual(["EXT4_DIR_CHECKSUM"]);
          // An inode's atime changed: its checksum no longer holds.
          const ino = file.ref as number;
          const third = damaged.slice();
          const owner = await fs.ownerOf(0);
          expect(owner).toEqual({ kind: "structure", structure: "boot block" });
          const at = await inodeOffsetOf(fs, ino);
          third[at + 0x8] ^= 1;
          const fs3 = await extDriver.mount(new MemoryDevice(third));
          const again = (await collect(fs3.readDir(d))).find((e) => e.ref === ino)!;
          expect(again.findings?.map((f) => f.code)).toContain("EXT4_INODE_CHECKSUM");
        } else {
          // gdt_csum keeps no directory or inode checksums.
          expect(listed.every((e) => e.findings === undefined)).toBe(true);
        }
      }
    });

    it("reports needs_recovery as a volume finding", async () => {
      const image = tmp.path("c.img");
      makeImage(tmp.path("tree2"), image, 16, ["-t", "ext4", "-b", "1024"]);
      runOk(requireTool("debugfs"), ["-w", "-R", "feature needs_recovery", image]);
      const fs = await extDriver.mount(new MemoryDevice(new Uint8Array(readFileSync(image))));
      expect(fs.findings.map((f) => f.code)).toContain("EXT4_NEEDS_RECOVERY");
    });
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Where inode `ino` lies: ownerOf names it in its inode table; scan the tables for it. */
async function inodeOffsetOf(fs: FileSystem, ino: number): Promise<number> {
  for (let off = 0; off < fs.size; off += 128) {
    const o = await fs.ownerOf(off);
    if (o.kind === "structure" && o.structure.startsWith(`inode ${ino} (`)) return off;
  }
  throw new Error(`inode ${ino} not found`);
}
