/**
 * The worker's toolbox: new images, conversions (raw → VHDX, VHDX with its chain → raw) and
 * compaction (merging a child into its parent is in mergeJob.ts). Each streams a piece at a time with progress
 * and cancel into a file the user picked (one writable, swapped in at the end or discarded) or an
 * OPFS file (in place; removed when the job fails), never holding the image in memory.
 */
import { createImage, forkInfoOf, resolveCreateOptions, type CreateOptions, type ParentInfo } from "../vhdx/create";
import { convertToRaw, convertToVhdx, rawDisk, type ToVhdxOptions } from "../vhdx/convert";
import { VhdxError } from "../vhdx/errors";
import { openImage } from "../vhdx/image";
import type { RandomAccess } from "../vhdx/io";
import type { CallContext } from "./protocol";
import { current, exclusive } from "./state";
import { BlobBackend } from "./storage/blobBackend";
import { normalizeOpfsPath, opfsFile, removeOpfsFile } from "./storage/opfs";
import { OpfsSyncBackend } from "./storage/opfsSyncBackend";
import { WritableHandleBackend } from "./storage/writableHandleBackend";

/** Where a toolbox job writes: a file from the save picker, or an OPFS path (for download). */
export type OutputTarget = { kind: "handle"; handle: FileSystemFileHandle } | { kind: "opfs"; path: string };

/** A file to read: picked (a handle) or given (File from an input or a drop). */
export type InputFile = { kind: "handle"; handle: FileSystemFileHandle } | { kind: "file"; file: File };

export interface JobResult {
  /** What was written, for the UI to say. */
  summary: string;
  /** Bytes of the output file. */
  fileSize: number;
  /** The output, to open in the editor: the picked handle, or the OPFS path. */
  target: OutputTarget;
}

/** Runs `fn` on a fresh output: all or nothing on a picked file, in place (removed on failure) in OPFS. */
async function withOutput<T>(
  target: OutputTarget,
  fn: (out: RandomAccess) => Promise<T>,
): Promise<{ value: T; size: number }> {
  if (target.kind === "handle") {
    const out = await WritableHandleBackend.open(target.handle, { overlayBudget: 32 * 1024 * 1024 });
    try {
      const { value } = await out.batch(async () => {
        await out.truncate(0);
        return fn(out);
      });
      return { value, size: await out.size() };
    } finally {
      await out.close();
    }
  }
  const path = normalizeOpfsPath(target.path);
  const out = await OpfsSyncBackend.open(await opfsFile(path, { create: true }), path);
  let ok = false;
  try {
    await out.truncate(0);
    const value = await fn(out);
    await out.flush();
    ok = true;
    return { value, size: await out.size() };
  } finally {
    await out.close();
    if (!ok) await removeOpfsFile(path).catch(() => undefined);
  }
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
    const { value: layout, size } = await withOutput(target, (out) => createImage(out, opts));
    ctx.progress(1, size);
    return {
      summary: `${o.type} image, ${layout.geometry.virtualDiskSize} bytes virtual, ${layout.geometry.blockSize}-byte blocks`,
      fileSize: size,
      target,
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
    const { value: r, size } = await withOutput(target, (out) =>
      convertToVhdx(disk, out, { ...o, signal: ctx.signal, onProgress: progressOf(ctx) }),
    );
    return {
      summary: `${o.type} VHDX from ${f.name}: ${r.allocatedBlocks} of ${r.totalBlocks} blocks allocated`,
      fileSize: size,
      target,
    };
  });
}

/** The open image's virtual disk (read through its parents when attached) out to a raw image. */
export function convertOpenToRaw(ctx: CallContext, target: OutputTarget): Promise<JobResult> {
  return exclusive(async () => {
    const img = current().image;
    const { value: r, size } = await withOutput(target, (out) =>
      convertToRaw(img, out, { signal: ctx.signal, onProgress: progressOf(ctx) }),
    );
    return { summary: `raw image of ${r.size} bytes, ${r.bytesWritten} bytes of data`, fileSize: size, target };
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
    const { value: r, size } = await withOutput(target, (out) =>
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
      target,
    };
  });
}
