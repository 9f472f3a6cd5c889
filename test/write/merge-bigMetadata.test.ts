/**
 * A parent and child whose metadata regions are 2049 MiB long (§2.2.3: a region is any multiple of 1 MiB; the
 * items only use its first kilobytes). Merging into it must read the items, not the region: the
 * merge succeeds in bounded memory and qemu-img reads the merged parent as the chain read before.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { openWithParents } from "../../src/node/resolveParent";
import { alignUp, MiB } from "../../src/vhdx/bytes";
import { closeChain } from "../../src/vhdx/chain";
import {
  METADATA_REGION_GUID,
  parseRegionTable,
  REGION_TABLE_OFFSETS,
  REGION_TABLE_SIZE,
  serializeRegionTable,
} from "../../src/vhdx/regionTable";
import { VhdxWriter } from "../../src/vhdx/write";
import { missingTools } from "../helpers/tools";
import { qemuToRaw, runOk, tempDir } from "./helpers";

const VHDX = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
const SIZE = 64 * MiB;
const REGION = 2049 * MiB;

async function write(path: string, at: number, data: Uint8Array): Promise<void> {
  const { image, chain } = await openWithParents(path, { readOnly: false });
  const w = new VhdxWriter(image);
  await w.write(at, data);
  await w.finish();
  await closeChain(chain);
}

/** Moves the metadata region to the end of the file and names it 2049 MiB long (the file grows sparse). */
async function widenMetadataRegion(path: string): Promise<void> {
  const f = await NodeFileBackend.open(path, { readOnly: false });
  try {
    const table = parseRegionTable(await f.read(REGION_TABLE_OFFSETS[0], REGION_TABLE_SIZE), REGION_TABLE_OFFSETS[0]);
    const meta = table.entries.find((e) => e.guid === METADATA_REGION_GUID)!;
    const at = alignUp(await f.size(), MiB);
    await f.write(at, await f.read(meta.fileOffset, meta.length));
    await f.truncate(at + REGION);
    const entries = table.entries.map((e) => (e === meta ? { ...e, fileOffset: at, length: REGION } : e));
    for (const o of REGION_TABLE_OFFSETS) await f.write(o, serializeRegionTable(entries));
    await f.flush();
  } finally {
    await f.close();
  }
}

describe.skipIf(missingTools("qemu-img"))("merging into a parent with a 2049 MiB metadata region", () => {
  it("reads the items, not the region: the merge commits and qemu-img reads the chain's bytes", async () => {
    const tmp = tempDir("vhdx-bigmeta-");
    try {
      const [parent, child] = [tmp.path("parent.vhdx"), tmp.path("child.vhdx")];
      runOk(process.execPath, [VHDX, "create", parent, "--size", String(SIZE), "--block-size", "1M"]);
      const model = new Uint8Array(SIZE);
      const a = Uint8Array.from({ length: 3 * MiB }, (_, i) => (i * 7) & 255);
      await write(parent, 0, a);
      model.set(a, 0);
      await widenMetadataRegion(parent);
      expect(runOk(process.execPath, [VHDX, "info", parent])).toMatch(/region metadata\s+2.00 GiB/);
      runOk(process.execPath, [VHDX, "create", child, "--parent", parent]);
      const b = Uint8Array.from({ length: 2 * MiB }, (_, i) => (i * 13 + 1) & 255);
      await write(child, 2 * MiB + 512, b);
      model.set(b, 2 * MiB + 512);
      // The child's region too: the merge rewrites the child's parent locator (parent_linkage2) and back.
      await widenMetadataRegion(child);
      const rssFile = tmp.path("rss");
      writeFileSync(
        tmp.path("rss.cjs"),
        `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));`,
      );
      const r = spawnSync(process.execPath, ["-r", tmp.path("rss.cjs"), VHDX, "merge", child], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      // Far below the 2 GiB the region's length would cost if it were read.
      expect(Number(readFileSync(rssFile, "utf8"))).toBeLessThan(300 * 1024);
      qemuToRaw(parent, tmp.path("parent.raw"));
      expect(readFileSync(tmp.path("parent.raw")).equals(Buffer.from(model))).toBe(true);
    } finally {
      tmp.cleanup();
    }
  });
});
