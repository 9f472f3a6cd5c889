/**
 * `vhdx convert child.vhd child.vhdx --keep-chain | --parent P.vhdx`: a hand-built three-link VHD
 * chain (QEMU makes no differencing VHDs, and opens no differencing VHDX) kept as a VHDX chain.
 * libvhdi (vhdimount) reads the VHD chain and the VHDX chain as the fixture's layers define; each
 * child's BAT and sector bitmap, read by the spec's rules, hold exactly its VHD's sectors;
 * qemu-img check, vhdiinfo and our checker find the files sound; a failure leaves no file at all.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildDynamicVhd, writeVhd, type BuiltBlock } from "../helpers/buildVhd";
import { patternBytes } from "../helpers/random";
import { qemuConvertToRaw } from "../helpers/qemu";
import { runOk } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { missingTools, requireTool } from "../helpers/tools";
import { vhdiinfo, vhdimountRead } from "../helpers/vhdi";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const MiB = 1 << 20;
const BS = 2 * MiB;
const SIZE = 6 * MiB;
const tmp = useTempDir("vhd-keep-chain-");

function vhdx(args: string[]) {
  const r = spawnSync(process.execPath, [VHDX, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ID = (n: number) => `${n}${n}${n}${n}${n}${n}${n}${n}-1111-2222-3333-444455556666`;

interface Layer {
  name: string;
  blocks: BuiltBlock[];
}

/** base: every block; mid: part of block 0 and all of block 1; top: parts of blocks 1 and 2, some of them zeros. */
const LAYERS: Layer[] = [
  { name: "base", blocks: [0, 1, 2].map((b) => ({ block: b, present: () => true, data: patternBytes(b + 1, BS) })) },
  {
    name: "mid",
    blocks: [
      // Runs of whole 4 KiB: libvhdi reads a VHD's sector bitmap 8 sectors (one byte) at a time.
      { block: 0, present: (s) => s < 96 || (s >= 3000 && s < 3104), data: patternBytes(11, BS) },
      { block: 1, present: () => true, data: patternBytes(12, BS) },
    ],
  },
  {
    name: "top",
    blocks: [
      { block: 1, present: (s) => s % 64 < 8, data: patternBytes(21, BS) },
      // Sectors held as zeros: they hide the parent's bytes, so they must stay in the child.
      { block: 2, present: (s) => s >= 2048, data: new Uint8Array(BS) },
    ],
  },
];

/** The chain's virtual disk as the layers define it: each sector from the topmost layer holding it. */
function expectedDisk(layers: readonly Layer[], bs = BS): Buffer {
  const disk = Buffer.alloc(SIZE);
  for (const l of layers)
    for (const b of l.blocks)
      for (let s = 0; s < bs / 512; s++)
        if (b.present(s)) disk.set(b.data.subarray(s * 512, s * 512 + 512), b.block * bs + s * 512);
  return disk;
}

function writeChain(dir: string, layers = LAYERS, blockSize = BS): string {
  mkdirSync(dir, { recursive: true });
  layers.forEach((l, i) =>
    writeVhd(
      `${dir}/${l.name}.vhd`,
      buildDynamicVhd({
        size: SIZE,
        blockSize,
        uniqueId: ID(i + 1),
        blocks: l.blocks,
        parent:
          i === 0
            ? undefined
            : {
                uniqueId: ID(i),
                timeStamp: 0,
                name: `${layers[i - 1].name}.vhd`,
                locators: [{ code: "W2ru", path: `.\\${layers[i - 1].name}.vhd` }],
              },
      }),
    ),
  );
  return `${dir}/${layers[layers.length - 1].name}.vhd`;
}

const BAT_REGION = "2dc27766-f623-4200-9d64-115e9bfd4a08";

/** A GUID as the spec stores it (mixed-endian) in its text form. */
function guidAt(b: Buffer, at: number): string {
  const h = (o: number, n: number, le: boolean) => {
    const bytes = [...b.subarray(at + o, at + o + n)];
    return (le ? bytes.reverse() : bytes).map((x) => x.toString(16).padStart(2, "0")).join("");
  };
  return `${h(0, 4, true)}-${h(4, 2, true)}-${h(6, 2, true)}-${h(8, 2, false)}-${h(10, 6, false)}`;
}

/**
 * The ranges a differencing VHDX holds itself, read from its bytes by the spec alone: the region
 * table at 192 KiB (§2.2.3) locates the BAT; payload entries (§2.5.1.1) FULLY_PRESENT (6) hold
 * their block, PARTIALLY_PRESENT (7) the sectors whose bit is set in the chunk's sector bitmap
 * block (§2.5.1.2, §2.4), least significant bit first. 2 MiB blocks: chunk ratio 2048.
 */
function ownRanges(path: string): [number, number][] {
  const f = readFileSync(path);
  const count = f.readUInt32LE(192 * 1024 + 8);
  let bat = -1;
  for (let i = 0; i < count; i++) {
    const e = 192 * 1024 + 16 + i * 32;
    if (guidAt(f, e) === BAT_REGION) bat = Number(f.readBigUInt64LE(e + 16));
  }
  const entry = (i: number) => f.readBigUInt64LE(bat + i * 8);
  const sb = entry(2048);
  const bitmapAt = Number(sb >> 20n) * MiB;
  const out: [number, number][] = [];
  const add = (a: number, b: number) => {
    const last = out[out.length - 1];
    if (last && last[1] === a) last[1] = b;
    else out.push([a, b]);
  };
  for (let block = 0; block < SIZE / BS; block++) {
    const state = Number(entry(block) & 7n);
    if (state === 6) add(block * BS, (block + 1) * BS);
    if (state !== 7) continue;
    expect(Number(sb & 7n)).toBe(6); // SB_BLOCK_PRESENT
    for (let s = 0; s < BS / 512; s++) {
      const n = (block * BS) / 512 + s;
      if ((f[bitmapAt + (n >>> 3)] >>> (n & 7)) & 1) add(block * BS + s * 512, block * BS + s * 512 + 512);
    }
  }
  return out;
}

function heldRanges(l: Layer, bs = BS): [number, number][] {
  const out: [number, number][] = [];
  for (const b of l.blocks)
    for (let s = 0; s < bs / 512; s++) {
      if (!b.present(s)) continue;
      const at = b.block * bs + s * 512;
      const last = out[out.length - 1];
      if (last && last[1] === at) last[1] = at + 512;
      else out.push([at, at + 512]);
    }
  return out;
}

describe.skipIf(missingTools("qemu-img", "vhdiinfo", "vhdimount", "fusermount"))(
  "vhdx convert --keep-chain / --parent",
  () => {
    it("keeps a differencing VHD chain as a VHDX chain libvhdi reads as the VHD chain", async () => {
      const top = writeChain(tmp.path("in"));
      const out = tmp.path("out");
      mkdirSync(out);
      const r = vhdx(["convert", top, `${out}/top.vhdx`, "--keep-chain"]);
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(out).sort()).toEqual(["base.vhdx", "mid.vhdx", "top.vhdx"]);
      // libvhdi reads the VHD chain as its layers say, and the VHDX chain the same.
      expect((await vhdimountRead(top, 3, tmp.path("m1"))).equals(expectedDisk(LAYERS))).toBe(true);
      expect((await vhdimountRead(`${out}/top.vhdx`, 3, tmp.path("m2"))).equals(expectedDisk(LAYERS))).toBe(true);
      // QEMU opens no differencing VHDX; the base is a plain one.
      expect(qemuConvertToRaw(`${out}/base.vhdx`).equals(expectedDisk(LAYERS.slice(0, 1)))).toBe(true);
      // Each child holds exactly its VHD's sectors, nothing of its parent's.
      expect(ownRanges(`${out}/mid.vhdx`)).toEqual(heldRanges(LAYERS[1]));
      expect(ownRanges(`${out}/top.vhdx`)).toEqual(heldRanges(LAYERS[2]));
      expect(runOk(requireTool("qemu-img"), ["check", "-f", "vhdx", `${out}/base.vhdx`]).stdout).toMatch(/No errors/);
      for (const f of ["base", "mid", "top"]) {
        const c = vhdx(["check", `${out}/${f}.vhdx`]);
        expect(c.status, c.stdout + c.stderr).toBe(0);
      }
      const vi = vhdiinfo(`${out}/top.vhdx`);
      expect(vi.diskType).toBe("differential");
      expect(vi.mediaSize).toBe(SIZE);
    });

    it("leaves no file when a name is taken or a link cannot be read", () => {
      const top = writeChain(tmp.path("bad"));
      const out = tmp.path("bad-out");
      mkdirSync(out);
      writeFileSync(`${out}/mid.vhdx`, "mine");
      const taken = vhdx(["convert", top, `${out}/top.vhdx`, "--keep-chain"]);
      expect(taken.status).toBe(2);
      expect(taken.stderr).toMatch(/mid\.vhdx already exists/);
      expect(readdirSync(out)).toEqual(["mid.vhdx"]);
      // The top link's BAT sends block 2 past the end of its file: found after base and mid are written.
      const bytes = buildDynamicVhd({
        size: SIZE,
        uniqueId: ID(3),
        blocks: LAYERS[2].blocks,
        parent: { uniqueId: ID(2), timeStamp: 0, name: "mid.vhd", locators: [{ code: "W2ru", path: ".\\mid.vhd" }] },
      });
      const dv = new DataView(bytes.buffer);
      dv.setUint32(1536 + 2 * 4, 0x7fffff, false);
      writeVhd(top, bytes);
      const out2 = tmp.path("bad-out2");
      mkdirSync(out2);
      const broken = vhdx(["convert", top, `${out2}/top.vhdx`, "--keep-chain"]);
      expect(broken.status).toBe(1);
      expect(broken.stderr).toMatch(/BAT entry 2 points past the end of the file/);
      expect(readdirSync(out2)).toEqual([]);
    });

    it("--parent converts one link over an existing VHDX holding the VHD parent's bytes, and refuses another", async () => {
      const top = writeChain(tmp.path("p"));
      const base = tmp.path("p/base.vhdx");
      expect(vhdx(["convert", tmp.path("p/mid.vhd"), base]).status).toBe(0); // base + mid, flattened
      const r = vhdx(["convert", top, tmp.path("p/top.vhdx"), "--parent", base]);
      expect(r.status, r.stderr).toBe(0);
      expect((await vhdimountRead(tmp.path("p/top.vhdx"), 2, tmp.path("m4"))).equals(expectedDisk(LAYERS))).toBe(true);
      expect(ownRanges(tmp.path("p/top.vhdx"))).toEqual(heldRanges(LAYERS[2]));

      // A VHDX that is not the VHD parent's disk: one byte changed at 3 MiB + 5.
      const other = tmp.path("p/other.vhdx");
      expect(vhdx(["convert", tmp.path("p/mid.vhd"), other]).status).toBe(0);
      const patch = tmp.path("p/patch.bin");
      writeFileSync(patch, Buffer.from([0x5a]));
      expect(vhdx(["write", other, "--offset", String(3 * MiB + 5), "--input", patch]).status).toBe(0);
      const refused = vhdx(["convert", top, tmp.path("p/top2.vhdx"), "--parent", other]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/differs from the VHD parent at virtual offset 0x30_0005/);
      expect(existsSync(tmp.path("p/top2.vhdx"))).toBe(false);
    });

    it("VHD blocks of 512 KiB and runs of single sectors: sector-exact in 2 MiB VHDX blocks", async () => {
      const KB512 = 512 * 1024;
      const layers: Layer[] = [
        {
          name: "small-base",
          blocks: Array.from({ length: SIZE / KB512 }, (_, b) => ({
            block: b,
            present: () => true,
            data: patternBytes(40 + b, KB512),
          })),
        },
        {
          name: "small-child",
          blocks: [
            // Sectors 5–36 of VHD block 1: a run that starts and ends inside 4 KiB.
            { block: 1, present: (s) => s >= 5 && s < 37, data: patternBytes(50, KB512) },
            // One whole VHD block of the four in VHDX block 1: partial there.
            { block: 6, present: () => true, data: patternBytes(51, KB512) },
            // All four VHD blocks of VHDX block 2: fully present.
            ...[8, 9, 10, 11].map((b) => ({ block: b, present: () => true, data: patternBytes(52 + b, KB512) })),
          ],
        },
      ];
      const top = writeChain(tmp.path("small"), layers, KB512);
      const out = tmp.path("small/out.vhdx");
      const r = vhdx(["convert", top, out, "--keep-chain"]);
      expect(r.status, r.stderr).toBe(0);
      expect(ownRanges(out)).toEqual(heldRanges(layers[1], KB512));
      const want = expectedDisk(layers, KB512);
      expect((await vhdimountRead(out, 2, tmp.path("m5"))).equals(want)).toBe(true);
      const c = vhdx(["check", out]);
      expect(c.status, c.stdout + c.stderr).toBe(0);
    });

    it("refuses what it cannot keep as a chain, before writing anything", () => {
      const top = writeChain(tmp.path("u"));
      const base = tmp.path("u/base.vhd");
      const cases: [string[], RegExp][] = [
        [[base, tmp.path("u/b.vhdx"), "--keep-chain"], /is a dynamic VHD, not a differencing one/],
        [[top, tmp.path("u/t.vhd"), "--keep-chain"], /name the output \.vhdx/],
        [[top, tmp.path("u/t.vhdx"), "--keep-chain", "--parent", base], /exclude each other/],
        [[top, tmp.path("u/t.vhdx"), "--parent", base, "--type", "fixed"], /--type applies to the base/],
      ];
      for (const [args, message] of cases) {
        const r = vhdx(["convert", ...args]);
        expect(r.status, args.join(" ")).toBe(2);
        expect(r.stderr).toMatch(message);
      }
      // A VHDX parent of another size: refused naming both sizes.
      const small = tmp.path("u/small.vhdx");
      expect(vhdx(["create", small, "--size", "4M"]).status).toBe(0);
      const r = vhdx(["convert", top, tmp.path("u/t.vhdx"), "--parent", small]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/virtual size of 4194304 bytes; the VHD parent has 6291456/);
      expect(readdirSync(tmp.path("u")).sort()).toEqual(["base.vhd", "mid.vhd", "small.vhdx", "top.vhd"]);
    });
  },
);
