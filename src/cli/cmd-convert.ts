import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { convertToRaw, convertToVhdx } from "../vhdx/convert";
import { RawFileDisk } from "../node/rawDisk";
import type { VhdxImage, VirtualDisk } from "../vhdx/image";
import { NodeFileBackend } from "../node/fileBackend";
import { flagString, ParsedArgs, parseSize, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize } from "./format";

/** `vhdx convert`: raw → VHDX, VHDX → raw, VHDX → VHDX (compacted). The output must not exist yet. */
export async function convertCommand(a: ParsedArgs, io: Io): Promise<number> {
  if (a.positionals.length !== 2)
    throw new UsageError("convert takes an input and an output (see vhdx convert --help)");
  const [inPath, outPath] = a.positionals;
  const format = flagString(a, "format") ?? (/\.vhdx$/i.test(outPath) ? "vhdx" : "raw");
  if (format !== "raw" && format !== "vhdx") throw new UsageError("--format must be raw or vhdx");
  const type = flagString(a, "type") ?? "dynamic";
  if (type !== "dynamic" && type !== "fixed") throw new UsageError("--type must be dynamic or fixed");
  if (format === "raw" && (a.flags.has("type") || a.flags.has("block-size")))
    throw new UsageError("--type and --block-size apply to VHDX output only");
  const blockSize = a.flags.has("block-size") ? parseSize(flagString(a, "block-size")!, "--block-size") : undefined;

  if (existsSync(outPath)) throw new UsageError(`${outPath} already exists; convert never overwrites a file`);
  const probe = await NodeFileBackend.open(inPath);
  const isVhdx = new TextDecoder().decode(await probe.read(0, 8)) === "vhdxfile";
  await probe.close();
  let source: VirtualDisk;
  let chain: VhdxImage[] = [];
  let closeSource: () => Promise<void>;
  if (isVhdx) {
    // Loaded only for a VHDX input: the chain resolver brings the reader, the log and the writer
    // (for locator updates), code a raw input never runs and every start would compile.
    const [{ openWithParents }, { closeChain }] = await Promise.all([
      import("../node/resolveParent"),
      import("../vhdx/chain"),
    ]);
    const opened = await openWithParents(inPath);
    source = opened.image;
    chain = opened.chain;
    closeSource = () => closeChain(opened.chain);
  } else {
    const raw = await RawFileDisk.open(inPath);
    source = raw;
    closeSource = () => raw.close();
  }
  try {
    const out = await NodeFileBackend.open(outPath, { create: "exclusive" });
    let complete = false;
    try {
      if (format === "raw") {
        const r = await convertToRaw(source, out, { sync: a.flags.has("sync") });
        io.out(`converted ${inPath} to raw ${outPath}: ${formatSize(r.size)}, ${formatSize(r.bytesWritten)} of data\n`);
      } else {
        const img = chain[0];
        const r = await convertToVhdx(source, out, {
          type,
          blockSize: blockSize ?? img?.blockSize,
          logicalSectorSize: img?.params.logicalSectorSize,
          physicalSectorSize: img?.params.physicalSectorSize,
          sync: a.flags.has("sync"),
        });
        io.out(
          `converted ${inPath} to ${type} VHDX ${outPath}: ${r.allocatedBlocks} of ${r.totalBlocks} blocks allocated, file ${formatSize(r.fileSize)}\n`,
        );
      }
      complete = true;
    } finally {
      await out.close();
      // The file was made by this command (exclusive create): a conversion that failed or was
      // interrupted leaves nothing behind.
      if (!complete) await rm(outPath, { force: true });
    }
  } finally {
    await closeSource();
  }
  return 0;
}
