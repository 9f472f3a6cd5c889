/**
 * The worker's toolbox: new images, conversions (raw → VHDX, VHDX with its chain → raw) and
 * compaction (merging a child into its parent is in mergeJob.ts). Each streams a piece at a time with progress
 * and cancel into a file the user picked (one writable, swapped in at the end or discarded) or an
 * OPFS file (a fresh one, given its name when complete), never holding the image in memory; what
 * it may write onto is ruled in outputs.ts.
 */
import { createImage, forkInfoOf, resolveCreateOptions, type CreateOptions, type ParentInfo } from "../vhdx/create";
import { convertToRaw, convertToVhdx, rawDisk, type ToVhdxOptions } from "../vhdx/convert";
import { VhdxError } from "../vhdx/errors";
import { openImage } from "../vhdx/image";
import { withOutput, type InputFile, type OutputTarget } from "./outputs";
import type { CallContext } from "./protocol";
import { current, exclusive } from "./state";
import { BlobBackend } from "./storage/blobBackend";
import { checkVhdSize, convertToVhd } from "../vhd/create";

export type { InputFile, OutputTarget };

export interface JobResult {
  /** What was written, for the UI to say. */
  summary: string;
  /** Bytes of the output file. */
  fileSize: number;
  /** The output, to open in the editor: the picked handle, or the OPFS path. */
  target: OutputTarget;
}

async function inputBlob(src: InputFile): Promise<File> {
  return src.kind === "file" ? src.file : src.handle.getFile();
}

export function progressOf(ctx: CallContext) {
  return (p: { done: number; total: number }) => ctx.progress(p.total ? p.done / p.total : 1, p.done);
}

export interface NewImageOptions extends Omit<CreateOptions, "parent" | "creator" | "virtualDiskId"> {
  /** For a differencing image: its parent, and the name the child's locator gives it (relative_path). */
  parent?: InputFile;
}

/** What a differencing child records of its parent (§2.6.2.6.3): linkage, sizes, the relative path. */
async function parentInfo(src: InputFile): Promise<{ info: ParentInfo; blockSize: number }> {
  const f = await inputBlob(src);
  const img = await openImage(new BlobBackend(f, { name: f.name }), { readOnly: true });
  try {
    return {
      // The browser knows a picked file's name, not its folder: the child expects its parent beside it.
      info: await forkInfoOf(img, { relativePath: `.\\${f.name}` }),
      blockSize: img.blockSize,
    };
  } finally {
    await img.close();
  }
}

/** A new fixed, dynamic or differencing image; the options are checked before anything is written. */
export function createNew(ctx: CallContext, o: NewImageOptions, target: OutputTarget): Promise<JobResult> {
  return exclusive(async () => {
    const opts: CreateOptions = { ...o, parent: undefined };
    if (o.type === "differencing") {
      if (!o.parent) throw new VhdxError("INVALID_ARGUMENT", "a differencing image needs a parent", "create");
      const p = await parentInfo(o.parent);
      opts.parent = p.info;
      opts.virtualSize = undefined;
      opts.blockSize ??= p.blockSize;
    }
    resolveCreateOptions(opts);
    ctx.progress(0, 0);
    const written = await withOutput(target, o.parent ? [o.parent] : [], (out) => createImage(out, opts));
    const layout = written.value;
    ctx.progress(1, written.size);
    return {
      summary: `${o.type} image, ${layout.geometry.virtualDiskSize} bytes virtual, ${layout.geometry.blockSize}-byte blocks`,
      fileSize: written.size,
      target: written.target,
    };
  });
}

export type ConvertOptions = Omit<ToVhdxOptions, "onProgress" | "signal" | "virtualDiskId">;

/** A raw disk image (.img, .raw, .bin) into a new VHDX. */
export function convertRaw(
  ctx: CallContext,
  src: InputFile,
  o: ConvertOptions,
  target: OutputTarget,
): Promise<JobResult> {
  return exclusive(async () => {
    const f = await inputBlob(src);
    const disk = rawDisk(new BlobBackend(f, { name: f.name }), f.size);
    const {
      value: r,
      size,
      target: at,
    } = await withOutput(target, [src], (out) =>
      convertToVhdx(disk, out, { ...o, signal: ctx.signal, onProgress: progressOf(ctx) }),
    );
    return {
      summary: `${o.type} VHDX from ${f.name}: ${r.allocatedBlocks} of ${r.totalBlocks} blocks allocated`,
      fileSize: size,
      target: at,
    };
  });
}

/** The open image's virtual disk (read through its parents when attached) out to a raw image. */
export function convertOpenToRaw(ctx: CallContext, target: OutputTarget): Promise<JobResult> {
  return exclusive(async () => {
    const img = current().image;
    const {
      value: r,
      size,
      target: at,
    } = await withOutput(target, [], (out) =>
      convertToRaw(img, out, { signal: ctx.signal, onProgress: progressOf(ctx) }),
    );
    return { summary: `raw image of ${r.size} bytes, ${r.bytesWritten} bytes of data`, fileSize: size, target: at };
  });
}

/**
 * The open image copied into a new VHDX: unreferenced space and all-zero blocks are dropped
 * (a differencing image comes out flattened, read through its chain).
 */
export function compact(ctx: CallContext, o: ConvertOptions, target: OutputTarget): Promise<JobResult> {
  return exclusive(async () => {
    const img = current().image;
    const before = img.fileSize;
    const {
      value: r,
      size,
      target: at,
    } = await withOutput(target, [], (out) =>
      convertToVhdx(img, out, {
        ...o,
        logicalSectorSize: o.logicalSectorSize ?? img.params.logicalSectorSize,
        physicalSectorSize: o.physicalSectorSize ?? img.params.physicalSectorSize,
        blockSize: o.blockSize ?? img.blockSize,
        signal: ctx.signal,
        onProgress: progressOf(ctx),
      }),
    );
    return {
      summary: `${r.allocatedBlocks} of ${r.totalBlocks} blocks kept; ${before} bytes before, ${size} after`,
      fileSize: size,
      target: at,
    };
  });
}

/** The open image (through its parents) out to a fixed or dynamic VHD; past 2040 GiB refused first. */
export function convertOpenToVhd(
  ctx: CallContext,
  subformat: "fixed" | "dynamic",
  target: OutputTarget,
): Promise<JobResult> {
  return exclusive(async () => {
    const img = current().image;
    checkVhdSize(Math.ceil(img.virtualSize / 512) * 512);
    const {
      value: r,
      size,
      target: at,
    } = await withOutput(target, [], (out) =>
      convertToVhd(img, out, { subformat, signal: ctx.signal, onProgress: progressOf(ctx) }),
    );
    return {
      summary: `${subformat} VHD of ${r.virtualSize} bytes${subformat === "dynamic" ? `, ${r.allocatedBlocks} of ${r.totalBlocks} blocks allocated` : ""}`,
      fileSize: size,
      target: at,
    };
  });
}
