/**
 * `vhdx merge` is one commit: the same bytes as `qemu-img commit` of the same writes (QEMU reads a
 * VHDX parent but not a VHDX child, so its child is a qcow2 overlay given the same writes), the
 * switch refused before any write when the parent's log cannot hold it, and the command killed at
 * its writes (killPoints; VHDX_FULL_CRASH=1: every one) leaves the parent before-or-after and the
 * child openable until the commit.
 */
import { afterAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createImage, type CreateOptions, parentInfoOf } from "../../src/vhdx/create";
import { openImage, type VhdxImage } from "../../src/vhdx/image";
import { RandomAccess } from "../../src/vhdx/io";
import { MiB } from "../../src/vhdx/bytes";
import { encodeBatEntry, PAYLOAD_BLOCK_ZERO } from "../../src/vhdx/bat";
import { VhdxWriter } from "../../src/vhdx/write";
import { mergeIntoParent } from "../../src/vhdx/merge";
import { announceParentLinkage } from "../../src/vhdx/mergeLinkage";
import { locatorValue } from "../../src/vhdx/parentLocator";
import { commitStructurePatch } from "../../src/vhdx/structurePatch";
import { serializeGuidItem, VIRTUAL_DISK_ID_GUID } from "../../src/vhdx/metadata";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openWithParents, parentLocatorPaths } from "../../src/node/resolveParent";
import { closeChain } from "../../src/vhdx/chain";
import { crashShimUnavailable, killPoints, runKilledAt, traceWrites } from "../helpers/crash";
import { hasTool, pattern, qemuCheck, qemuToRaw, run, runOk, tempDir } from "./helpers";

const tmp = tempDir("vhdx-merge-");
afterAll(() => tmp.cleanup());
const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const GiB = 1024 * MiB;
const NEW_ID = "12345678-9abc-4def-8123-456789abcdef";

interface Pair {
  parent: string;
  child: string;
  /** The parent's virtual disk before the merge, and the child over it (the merge's result). */
  before: Uint8Array;
  after: Uint8Array;
  writes: [number, Uint8Array][];
  /** Child blocks set to PAYLOAD_BLOCK_ZERO, as virtual ranges. */
  zeros: [number, number][];
}

async function differencingOver(
  childFile: RandomAccess,
  parent: VhdxImage,
  childPath: string,
  parentPath: string,
  blockSize: number,
) {
  await createImage(childFile, {
    type: "differencing",
    blockSize,
    parent: parentInfoOf(parent, parentLocatorPaths(childPath, parentPath)),
  });
}

/**
 * A parent (dynamic or fixed) holding pattern(1) over its first `present` bytes, and a child with
 * its own block size holding `writes`, one block set to ZERO and a new VirtualDiskId.
 */
/** An 8 MiB dynamic parent and its child, 1 MiB blocks both. */
const SMALL_PAIR = { size: 8 * MiB, parentType: "dynamic", parentBlock: MiB, childBlock: MiB } as const;

async function makePair(
  dir: string,
  o: { size: number; parentType: CreateOptions["type"]; parentBlock: number; childBlock: number; present: number },
): Promise<Pair> {
  mkdirSync(dir, { recursive: true });
  const parent = resolve(dir, "parent.vhdx");
  const child = resolve(dir, "child.vhdx");
  const before = new Uint8Array(o.size);
  {
    const f = await NodeFileBackend.open(parent, { create: "overwrite" });
    await createImage(f, { type: o.parentType, virtualSize: o.size, blockSize: o.parentBlock });
    const w = new VhdxWriter(await openImage(f, { readOnly: false }));
    await w.write(0, pattern(1, o.present));
    before.set(pattern(1, o.present));
    await w.close();
  }
  const pi = await openImage(await NodeFileBackend.open(parent));
  const cf = await NodeFileBackend.open(child, { create: "overwrite" });
  await differencingOver(cf, pi, child, parent, o.childBlock);
  await cf.close();
  await pi.close();
  const cb = o.childBlock;
  const writes: [number, Uint8Array][] = [
    [1000, pattern(2, 3000)], // partly written sectors, block 0
    [cb - 10, pattern(3, 20)], // across a child block boundary
    [3 * cb + 512, pattern(4, cb)], // most of a block and into the next
    [o.size - 700, pattern(5, 700)], // the disk's last bytes
  ];
  const zeroBlock = 2;
  const zeros: [number, number][] = [[zeroBlock * cb, cb]];
  const after = before.slice();
  const { image, chain } = await openWithParents(child, { readOnly: false });
  const w = new VhdxWriter(image);
  for (const [at, d] of writes) {
    await w.write(at, d);
    after.set(d, at);
  }
  const id = image.metadataTable.entries.find((e) => e.itemId === VIRTUAL_DISK_ID_GUID)!;
  const entry = image.blockLocation(zeroBlock).entry;
  await commitStructurePatch(w, [
    { fileOffset: image.metadataRegion.fileOffset + id.offset, data: serializeGuidItem(NEW_ID) },
    { fileOffset: image.batRegion.fileOffset + entry * 8, data: encodeBatEntry(PAYLOAD_BLOCK_ZERO, 0) },
  ]);
  after.fill(0, zeroBlock * cb, (zeroBlock + 1) * cb);
  await w.finish();
  await closeChain(chain);
  return { parent, child, before, after, writes, zeros };
}

/** The same writes through QEMU: a qcow2 overlay on a copy of the parent, then `qemu-img commit`. */
function qemuCommit(pair: Pair, parentCopy: string): void {
  const overlay = parentCopy + ".qcow2";
  runOk("qemu-img", ["create", "-q", "-f", "qcow2", "-b", parentCopy, "-F", "vhdx", overlay]);
  const cmds: string[] = [];
  pair.writes.forEach(([at, d], i) => {
    const file = `${overlay}.${i}.bin`;
    writeFileSync(file, d);
    cmds.push("-c", `write -q -s ${file} ${at} ${d.length}`);
  });
  for (const [at, n] of pair.zeros) cmds.push("-c", `write -q -z ${at} ${n}`);
  runOk("qemu-io", ["-f", "qcow2", ...cmds, overlay]);
  runOk("qemu-img", ["commit", "-q", "-f", "qcow2", overlay]);
}

async function readAll(path: string, writable: boolean): Promise<Buffer> {
  const img = await openImage(await NodeFileBackend.open(path, { readOnly: !writable }), { readOnly: !writable });
  try {
    return Buffer.from(await img.read(0, img.virtualSize));
  } finally {
    await img.close();
  }
}

describe.skipIf(!hasTool("qemu-img"))("vhdx merge against qemu-img commit", () => {
  for (const c of [
    {
      name: "dynamic parent, 1 MiB blocks; child 2 MiB blocks",
      parentType: "dynamic",
      parentBlock: MiB,
      childBlock: 2 * MiB,
    },
    {
      name: "fixed parent, 4 MiB blocks; child 1 MiB blocks",
      parentType: "fixed",
      parentBlock: 4 * MiB,
      childBlock: MiB,
    },
  ] as const) {
    it(`${c.name}: the same bytes, a clean check, the child unlinked afterwards`, async () => {
      const dir = tmp.path(c.parentType);
      const pair = await makePair(dir, { ...c, size: 16 * MiB, present: 5 * MiB + 4096 });
      const theirs = resolve(dir, "qemu-parent.vhdx");
      copyFileSync(pair.parent, theirs);
      qemuCommit(pair, theirs);
      const r = run(process.execPath, [VHDX, "merge", pair.child]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/metadata updated/);
      expect(qemuCheck(pair.parent).out).toMatch(/No errors were found/);
      qemuToRaw(pair.parent, resolve(dir, "ours.raw"));
      qemuToRaw(theirs, resolve(dir, "theirs.raw"));
      const ours = readFileSync(resolve(dir, "ours.raw"));
      expect(ours.equals(readFileSync(resolve(dir, "theirs.raw")))).toBe(true);
      expect(ours.equals(Buffer.from(pair.after))).toBe(true);
      const merged = await openImage(await NodeFileBackend.open(pair.parent));
      expect(merged.params.virtualDiskId).toBe(NEW_ID);
      await merged.close();
      // Documented: once merged, the child no longer links to the changed parent.
      await expect(openWithParents(pair.child)).rejects.toMatchObject({ code: "PARENT_MISMATCH" });
    });
  }
});

describe("announceParentLinkage", () => {
  it("names both DataWriteGuids without renewing the child's, and its undo restores the metadata region byte for byte", async () => {
    const dir = tmp.path("announce");
    const pair = await makePair(dir, {
      ...SMALL_PAIR,
      present: MiB,
    });
    const parentImage = await openImage(await NodeFileBackend.open(pair.parent));
    const parentGuid = parentImage.header.dataWriteGuid;
    await parentImage.close();
    const open = async () =>
      openImage(await NodeFileBackend.open(pair.child, { readOnly: false }), { readOnly: false });
    const w = new VhdxWriter(await open());
    const { dataWriteGuid } = w.image.header;
    const region = await w.image.io.read(w.image.metadataRegion.fileOffset, w.image.metadataRegion.length);
    const next = "0f0e0d0c-0b0a-4908-8706-050403020100";
    const undo = await announceParentLinkage(w, parentGuid, next);
    await w.finish();
    const pl = w.image.params.parentLocator!;
    expect(locatorValue(pl, "parent_linkage")).toBe(`{${parentGuid}}`);
    expect(locatorValue(pl, "parent_linkage2")).toBe(`{${next}}`);
    expect(locatorValue(pl, "relative_path")).toBe("parent.vhdx");
    expect(w.image.header.dataWriteGuid).toBe(dataWriteGuid);
    await undo();
    await w.close();
    const again = await open();
    expect(again.header.dataWriteGuid).toBe(dataWriteGuid);
    const now = await again.io.read(again.metadataRegion.fileOffset, again.metadataRegion.length);
    expect(Buffer.from(now).equals(Buffer.from(region))).toBe(true);
    await again.close();
  });
});

describe.skipIf(!hasTool("qemu-img") || !hasTool("chattr"))("vhdx merge of a child it cannot write", () => {
  it("merges all the same, leaves the child byte for byte as it was, and says so", async () => {
    const dir = tmp.path("immutable");
    const pair = await makePair(dir, {
      ...SMALL_PAIR,
      present: 2 * MiB,
    });
    const childBefore = readFileSync(pair.child);
    // Immutable: not even root may open it for writing (EPERM), as on read-only media.
    runOk("chattr", ["+i", pair.child]);
    try {
      const r = run(process.execPath, [VHDX, "merge", pair.child]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/could not be written \(operation not permitted\) and was left as it was/);
    } finally {
      runOk("chattr", ["-i", pair.child]);
    }
    expect(readFileSync(pair.child).equals(childBefore)).toBe(true);
    expect(qemuCheck(pair.parent).out).toMatch(/No errors were found/);
    qemuToRaw(pair.parent, resolve(dir, "merged.raw"));
    expect(readFileSync(resolve(dir, "merged.raw")).equals(Buffer.from(pair.after))).toBe(true);
  });
});

describe("vhdx merge of a child with nothing of its own", () => {
  it("says so and leaves both files byte for byte as they were", () => {
    const dir = tmp.path("empty");
    runOk("mkdir", ["-p", dir]);
    const p = resolve(dir, "p.vhdx");
    const c = resolve(dir, "c.vhdx");
    runOk(process.execPath, [VHDX, "create", p, "--size", "8M", "--block-size", "1M"]);
    runOk(process.execPath, [VHDX, "create", c, "--parent", p]);
    const before = [readFileSync(p), readFileSync(c)];
    const r = run(process.execPath, [VHDX, "merge", c]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nothing to merge/);
    expect(readFileSync(p).equals(before[0])).toBe(true);
    expect(readFileSync(c).equals(before[1])).toBe(true);
  });
});

describe("merge log capacity", () => {
  // A switch larger than the parent's log now grows the log first: test/write/merge-logGrow.test.ts
  // (270 one-byte writes 16 MiB apart, read back through libvhdi) and test/write/logResize.test.ts.

  it("switches more than 126 BAT sectors in one entry (further descriptor sectors)", async () => {
    const dir = tmp.path("wide");
    runOk("mkdir", ["-p", dir]);
    const parent = resolve(dir, "p.vhdx");
    const child = resolve(dir, "c.vhdx");
    const pf = await NodeFileBackend.open(parent, { create: "overwrite" });
    // 1 MiB blocks, 512 logical sectors: chunk ratio 4096, so 511 or 512 payload entries per BAT sector.
    await createImage(pf, { type: "dynamic", virtualSize: 80 * GiB, blockSize: MiB });
    const p = await openImage(pf);
    const cf = await NodeFileBackend.open(child, { create: "overwrite" });
    await differencingOver(cf, p, child, parent, MiB);
    await cf.close();
    await p.close();
    const { image, chain } = await openWithParents(child, { readOnly: false });
    const cw = new VhdxWriter(image);
    const spots: number[] = [];
    for (let i = 0; i < 140; i++) spots.push(i * 520 * MiB + i * 4096);
    for (const at of spots) await cw.write(at, pattern(at % 251, 4096));
    await cw.finish();
    await closeChain(chain);
    const { image: c, chain: ch } = await openWithParents(child);
    const descriptors: number[] = [];
    const w = new VhdxWriter(
      await openImage(await NodeFileBackend.open(parent, { readOnly: false }), { readOnly: false }),
      { afterLogFlush: (i) => void descriptors.push(i.descriptorSectors) },
    );
    await mergeIntoParent(c, w);
    await w.close();
    await closeChain(ch);
    expect(descriptors).toEqual([2]);
    const merged = await openImage(await NodeFileBackend.open(parent));
    for (const at of spots)
      expect(Buffer.from(await merged.read(at, 4096)).equals(Buffer.from(pattern(at % 251, 4096)))).toBe(true);
    await merged.close();
    if (hasTool("qemu-img")) expect(qemuCheck(parent).out).toMatch(/No errors were found/);
  });
});

describe.skipIf(crashShimUnavailable() !== undefined || !hasTool("qemu-img"))(
  "vhdx merge killed at its kill points (test/helpers/crash.ts killPoints)",
  () => {
    it("the parent reads before or after, the child opens until the commit, and the parent checks clean", async () => {
      const dir = tmp.path("crash");
      const pair = await makePair(dir, {
        ...SMALL_PAIR,
        present: 3 * MiB,
      });
      const origParent = pair.parent + ".orig";
      const origChild = pair.child + ".orig";
      copyFileSync(pair.parent, origParent);
      copyFileSync(pair.child, origChild);
      const args = [VHDX, "merge", pair.child];
      const { count, result, writes } = traceWrites(process.execPath, args);
      expect(result.exitCode, result.stderr).toBe(0);
      const befores = { n: 0, childOpened: 0 };
      const afters = { n: 0, childOpened: 0 };
      // Every step of the merge's write protocol, early and late (test/helpers/crash.ts killPoints;
      // VHDX_FULL_CRASH=1: every write).
      const points = killPoints(writes);
      for (const n of points) {
        copyFileSync(origParent, pair.parent);
        copyFileSync(origChild, pair.child);
        expect(runKilledAt(process.execPath, args, n).killed).toBe(true);
        const bytes = await readAll(pair.parent, true); // replays the parent's log in place
        const isBefore = bytes.equals(Buffer.from(pair.before));
        const isAfter = !isBefore && bytes.equals(Buffer.from(pair.after));
        if (!isBefore && !isAfter)
          throw new Error(`killed before write ${n} of ${count}: the parent is neither before nor after`);
        if (isAfter) {
          const m = await openImage(await NodeFileBackend.open(pair.parent));
          expect(m.params.virtualDiskId).toBe(NEW_ID);
          await m.close();
        }
        const check = qemuCheck(pair.parent);
        if (check.status !== 0) throw new Error(`killed before write ${n}: qemu-img check: ${check.out}`);
        // The child (its own log replayed) over its parent: it must open while the merge has not
        // committed; whenever it opens it reads as child over parent.
        let opened = false;
        try {
          const { image, chain } = await openWithParents(pair.child, { readOnly: false });
          const seen = Buffer.from(await image.read(0, image.virtualSize));
          await closeChain(chain);
          if (!seen.equals(Buffer.from(pair.after)))
            throw new Error(`killed before write ${n}: the child reads wrong bytes`);
          opened = true;
        } catch (e) {
          if (isBefore)
            throw new Error(`killed before write ${n}: the merge had not committed but the child does not open: ${e}`);
          if (!(e as { code?: string }).code?.startsWith("PARENT_MISMATCH")) throw e;
        }
        const tally = isBefore ? befores : afters;
        tally.n++;
        if (opened) tally.childOpened++;
      }
      console.log(
        `vhdx merge killed at ${points.length} of its ${count} positional writes: ${befores.n} before-states (child opened in all), ${afters.n} after-states (child still linked in ${afters.childOpened})`,
      );
      expect(befores.n).toBeGreaterThan(0);
      expect(afters.n).toBeGreaterThan(0);
    });
  },
);
