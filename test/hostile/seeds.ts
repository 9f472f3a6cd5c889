import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MiB } from "../../src/vhdx/bytes";
import { HEADER_OFFSETS } from "../../src/vhdx/header";
import { REGION_TABLE_OFFSETS } from "../../src/vhdx/regionTable";
import { BuiltImage, buildImage, withPendingLog } from "../helpers/buildImage";
import type { Seed } from "./properties";

const headerTargets = (): [number, number][] => [
  [HEADER_OFFSETS[0], 80],
  [HEADER_OFFSETS[1], 80],
  [REGION_TABLE_OFFSETS[0], 16 + 3 * 32],
  [REGION_TABLE_OFFSETS[1], 16 + 3 * 32],
];

function fromBuilt(name: string, img: BuiltImage): Seed {
  return {
    name,
    bytes: img.bytes,
    targets: [
      ...headerTargets(),
      [img.metadataOffset, 32 + 32 * img.metadataEntries.length],
      [img.metadataOffset + 64 * 1024, 256],
      [img.batOffset, 64],
      [img.batOffset + 4096 * 8, 16],
      [img.logOffset, 64],
    ],
  };
}

/** Small images made in memory: dynamic, fixed, differencing with a partially present block, 4 KiB sectors. */
export function builtSeeds(): Seed[] {
  return [
    fromBuilt("dynamic", buildImage({ allocated: [0, 3] })),
    fromBuilt("fixed", buildImage({ type: "fixed", virtualSize: 3 * MiB })),
    fromBuilt("differencing", buildImage({ type: "differencing", virtualSize: 4 * MiB, allocated: [0], partial: [1] })),
    fromBuilt(
      "4k-sectors",
      buildImage({ virtualSize: 6 * MiB, blockSize: 2 * MiB, logicalSectorSize: 4096, allocated: [1] }),
    ),
    pendingLogSeed(),
  ];
}

/** A dynamic image with a log entry still to replay (it rewrites the first BAT sector). */
function pendingLogSeed(): Seed {
  const img = buildImage({ allocated: [0, 2] });
  withPendingLog(img, [{ fileOffset: img.batOffset, data: img.bytes.slice(img.batOffset, img.batOffset + 4096) }]);
  const seed = fromBuilt("pending-log", img);
  // Entry header, first descriptors, and the data sector's leading bytes.
  seed.targets.push([img.logOffset, 64 + 2 * 32], [img.logOffset + 4096, 16]);
  seed.logEntries = [img.logOffset];
  return seed;
}

/** A small dynamic image made by qemu-img with one block written by qemu-io, or null without QEMU. */
export function qemuSeed(): Seed | null {
  const dir = mkdtempSync(join(tmpdir(), "vhdx-seed-"));
  try {
    const path = join(dir, "q.vhdx");
    const mk = spawnSync(
      "qemu-img",
      ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", path, "4M"],
      { encoding: "utf8" },
    );
    if (mk.error || mk.status !== 0) return null;
    const w = spawnSync("qemu-io", ["-f", "vhdx", "-c", "write -P 0x5a 1M 64k", path], { encoding: "utf8" });
    if (w.error || w.status !== 0) return null;
    const bytes = new Uint8Array(readFileSync(path));
    // QEMU's layout: log at 1 MiB, BAT at 2 MiB, metadata at 3 MiB.
    return {
      name: "qemu",
      bytes,
      targets: [...headerTargets(), [3 * MiB, 32 + 32 * 5], [3 * MiB + 64 * 1024, 48], [2 * MiB, 64], [MiB, 64]],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
