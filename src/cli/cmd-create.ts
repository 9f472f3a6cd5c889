import { resolve } from "node:path";
import { existsSync } from "node:fs";
import { createImage, CreateOptions, forkInfoOf, resolveCreateOptions } from "../vhdx/create";
import { openImage } from "../vhdx/image";
import { NodeFileBackend } from "../node/fileBackend";
import { createNewFile } from "../node/newFile";
import { parentLocatorPaths } from "../node/resolveParent";
import { flagString, oneImage, ParsedArgs, parseSize, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize } from "./format";

function sectorFlag(a: ParsedArgs, name: string): number | undefined {
  const v = flagString(a, name);
  if (v === undefined) return undefined;
  if (v !== "512" && v !== "4096") throw new UsageError(`--${name} must be 512 or 4096`);
  return Number(v);
}

/** `vhdx create`: a new fixed, dynamic or differencing image; an existing file is never overwritten. */
export async function createCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "create");
  const type = flagString(a, "type") ?? (a.flags.has("parent") ? "differencing" : "dynamic");
  if (type !== "dynamic" && type !== "fixed" && type !== "differencing")
    throw new UsageError(`--type must be dynamic, fixed or differencing`);
  const parentPath = flagString(a, "parent");
  if (type === "differencing" && !parentPath) throw new UsageError("a differencing image needs --parent");
  if (type !== "differencing" && parentPath)
    throw new UsageError("--parent makes a differencing image; drop --type or use --type differencing");
  const opts: CreateOptions = {
    type,
    virtualSize: a.flags.has("size") ? parseSize(flagString(a, "size")!, "--size") : undefined,
    blockSize: a.flags.has("block-size") ? parseSize(flagString(a, "block-size")!, "--block-size") : undefined,
    logicalSectorSize: sectorFlag(a, "logical-sector"),
    physicalSectorSize: sectorFlag(a, "physical-sector"),
    logSize: a.flags.has("log-size") ? parseSize(flagString(a, "log-size")!, "--log-size") : undefined,
  };
  if (type !== "differencing" && opts.virtualSize === undefined) throw new UsageError("--size is required");
  if (parentPath) {
    const pf = await NodeFileBackend.open(parentPath, { lock: "shared" });
    try {
      const p = await openImage(pf);
      opts.parent = await forkInfoOf(p, parentLocatorPaths(resolve(path), resolve(parentPath)));
      // A child with the parent's block size keeps their blocks aligned.
      opts.blockSize ??= p.blockSize;
    } finally {
      await pf.close();
    }
  }
  resolveCreateOptions(opts); // bad options are refused before any file exists
  if (existsSync(path)) throw new UsageError(`${path} already exists; create never overwrites a file`);
  // Written under a temporary name beside it; it takes its name only once whole (newFile.ts).
  const output = await createNewFile(path, { lock: "exclusive" });
  let said: string;
  try {
    const layout = await createImage(output.file, opts);
    const g = layout.geometry;
    said = `created ${path}: ${type}, ${formatSize(g.virtualDiskSize)} virtual, ${formatSize(g.blockSize)} blocks, file ${formatSize(layout.fileSize)}\n`;
    await output.commit();
  } finally {
    await output.abandon();
  }
  io.out(said);
  return 0;
}
