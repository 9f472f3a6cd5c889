import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { convertToRaw, convertToVhdx } from "../vhdx/convert";
import { RawFileDisk } from "../node/rawDisk";
import type { VhdxImage, VirtualDisk } from "../vhdx/image";
import { NodeFileBackend } from "../node/fileBackend";
import { hasKnownSize, inputKind } from "../node/deviceSize";
import { createNewFile } from "../node/newFile";
import { flagString, ParsedArgs, parseSize, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize } from "./format";
import { detectFormat } from "../vhd/open";
import { checkVhdSize, convertToVhd } from "../vhd/create";

/**
 * `vhdx convert`: raw → VHDX, VHDX → raw, VHDX → VHDX (compacted). The output must not exist yet;
 * it is written under a temporary name beside it and takes its name only once whole (newFile.ts).
 * The input is a file or a block device (a disk, a partition, a loop device: physical to virtual).
 */
export async function convertCommand(a: ParsedArgs, io: Io): Promise<number> {
  if (a.positionals.length !== 2)
    throw new UsageError("convert takes an input and an output (see vhdx convert --help)");
  const [inPath, outPath] = a.positionals;
  const format =
    flagString(a, "format") ?? (/\.vhdx$/i.test(outPath) ? "vhdx" : /\.vhd$/i.test(outPath) ? "vhd" : "raw");
  if (format !== "raw" && format !== "vhdx" && format !== "vhd")
    throw new UsageError("--format must be raw, vhdx or vhd");
  const subformat = flagString(a, "subformat") ?? "dynamic";
  if (subformat !== "dynamic" && subformat !== "fixed") throw new UsageError("--subformat must be dynamic or fixed");
  if (format !== "vhd" && a.flags.has("subformat")) throw new UsageError("--subformat applies to VHD output only");
  if (format === "vhd" && (a.flags.has("type") || a.flags.has("block-size")))
    throw new UsageError("--type and --block-size apply to VHDX output only (a VHD takes --subformat)");
  const type = flagString(a, "type") ?? "dynamic";
  if (type !== "dynamic" && type !== "fixed") throw new UsageError("--type must be dynamic or fixed");
  if (format === "raw" && (a.flags.has("type") || a.flags.has("block-size")))
    throw new UsageError("--type and --block-size apply to VHDX output only");
  const blockSize = a.flags.has("block-size") ? parseSize(flagString(a, "block-size")!, "--block-size") : undefined;

  if (existsSync(outPath)) throw new UsageError(`${outPath} already exists; convert never overwrites a file`);
  // Checked before opening: opening a pipe would wait for a writer, and reading it would consume it.
  const st = await stat(inPath);
  if (!hasKnownSize(st))
    throw new UsageError(
      `${inPath} is ${inputKind(st)}: convert needs an input whose size is known up front (a file or a block device); \`vhdx write --input\` takes a stream`,
    );
  const probe = await NodeFileBackend.open(inPath);
  const inFormat = await detectFormat(probe);
  await probe.close();
  if (a.flags.has("keep-chain") || a.flags.has("parent")) {
    if (inFormat !== "vhd")
      throw new UsageError("--keep-chain and --parent convert a differencing VHD; this input is not a VHD");
    const { convertVhdChainCommand } = await import("./cmd-convertVhdChain");
    return convertVhdChainCommand(a, io, inPath, outPath);
  }
  let source: VirtualDisk;
  let chain: VhdxImage[] = [];
  let closeSource: () => Promise<void>;
  let vhdBlockSize: number | undefined;
  // The input's lock is taken alongside the copy (a process start saved from every conversion):
  // the copy only counts once its output is committed, and that waits for the lock; a refusal
  // stops the copy and discards the output.
  let locked: Promise<void>;
  if (inFormat === "vhd") {
    const [{ openVhdWithParents }, { closeVhdChain }] = await Promise.all([
      import("../node/resolveVhdParent"),
      import("../vhd/chain"),
    ]);
    const opened = await openVhdWithParents(inPath, { lock: true, deferLock: true });
    locked = opened.locked;
    source = opened.image;
    // A VHD's 2 MiB blocks are valid VHDX blocks; smaller ones are not (1 MiB at least).
    const bs = opened.image.blockSize;
    vhdBlockSize = bs >= 1024 * 1024 && bs <= 256 * 1024 * 1024 ? bs : undefined;
    closeSource = () => closeVhdChain(opened.chain);
  } else if (inFormat === "vhdx") {
    // Loaded only for a VHDX input: the chain resolver brings the reader, the log and the writer
    // (for locator updates), code a raw input never runs and every start would compile.
    const [{ openWithParents }, { closeChain }] = await Promise.all([
      import("../node/resolveParent"),
      import("../vhdx/chain"),
    ]);
    const opened = await openWithParents(inPath, { lock: true, deferLock: true });
    locked = opened.locked;
    source = opened.image;
    chain = opened.chain;
    closeSource = () => closeChain(opened.chain);
  } else {
    const raw = await RawFileDisk.open(inPath, { lock: "shared", deferLock: true });
    locked = raw.locked;
    source = raw;
    closeSource = () => raw.close();
  }
  try {
    if (format === "vhd") checkVhdSize(Math.ceil(source.virtualSize / 512) * 512);
    // Not locked: no other program knows the temporary name, and the file is closed before it
    // takes its own name (newFile.ts), so a lock would guard nothing.
    const output = await createNewFile(outPath);
    const out = output.file;
    const refused = new AbortController();
    locked.catch(() => refused.abort());
    const signal = refused.signal;
    let said: string;
    try {
      if (format === "vhd") {
        const r = await convertToVhd(source, out, { subformat, sync: a.flags.has("sync") });
        said = `converted ${inPath} to ${subformat} VHD ${outPath}: ${formatSize(r.virtualSize)}${subformat === "dynamic" ? `, ${r.allocatedBlocks} of ${r.totalBlocks} blocks allocated` : ""}, file ${formatSize(r.fileSize)}\n`;
      } else if (format === "raw") {
        const r = await convertToRaw(source, out, { sync: a.flags.has("sync"), signal });
        said = `converted ${inPath} to raw ${outPath}: ${formatSize(r.size)}, ${formatSize(r.bytesWritten)} of data\n`;
      } else {
        const img = chain[0];
        const r = await convertToVhdx(source, out, {
          type,
          blockSize: blockSize ?? img?.blockSize ?? vhdBlockSize,
          logicalSectorSize: img?.params.logicalSectorSize,
          physicalSectorSize: img?.params.physicalSectorSize,
          sync: a.flags.has("sync"),
          signal,
        });
        said = `converted ${inPath} to ${type} VHDX ${outPath}: ${r.allocatedBlocks} of ${r.totalBlocks} blocks allocated, file ${formatSize(r.fileSize)}\n`;
      }
      await locked;
      await output.commit();
    } catch (e) {
      // A copy stopped by the refusal reports the refusal.
      await locked;
      throw e;
    } finally {
      await output.abandon();
    }
    io.out(said);
  } finally {
    await closeSource();
  }
  return 0;
}
