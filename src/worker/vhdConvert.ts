/**
 * A picked VHD into VHDX, differencing ones included: the parents come from the files the user
 * gives (matched to the parent locators and checked against each child's Parent Unique Id, as
 * for an open VHD, vhdChain.ts). Flattened, the chain is read through into one VHDX; kept as a
 * chain (as `vhdx convert --keep-chain` does), the base becomes a dynamic or fixed VHDX and each
 * differencing VHD a differencing VHDX over the VHDX made of its parent, holding only its own
 * sectors — all written into browser storage as one output (outputs.ts withOpfsOutputs).
 */
import { attachVhdParents, closeVhdChain } from "../vhd/chain";
import type { VhdImage } from "../vhd/image";
import { vhdInfo as infoOf, type VhdInfo } from "../vhd/info";
import { openVhd } from "../vhd/open";
import { convertVhdLinkToVhdx, vhdxBlockSizeFor } from "../vhd/toVhdxChild";
import { convertToVhdx } from "../vhdx/convert";
import { forkInfoOf } from "../vhdx/create";
import { VhdxError } from "../vhdx/errors";
import { openImage } from "../vhdx/image";
import type { ParentSource } from "./chain";
import { withOpfsOutputs, withOutput, type InputFile, type OutputTarget } from "./outputs";
import type { CallContext } from "./protocol";
import { exclusive } from "./state";
import { BlobBackend } from "./storage/blobBackend";
import { splitOpfsPath } from "./storage/opfs";
import { progressOf, type ConvertOptions, type JobResult } from "./toolbox";
import { vhdChainView, vhdParentResolver, type VhdChainView } from "./vhdChain";

async function inputBlob(src: InputFile): Promise<File> {
  return src.kind === "file" ? src.file : src.handle.getFile();
}

/** The picked VHD's footer, header and locators (as `vhdx info --json`), for the dialog to say what it needs. */
export async function vhdSourceInfo(_ctx: CallContext, src: InputFile): Promise<VhdInfo> {
  const f = await inputBlob(src);
  const img = await openVhd(new BlobBackend(f, { name: f.name }));
  try {
    return await infoOf(img);
  } finally {
    await img.close();
  }
}

interface OpenedChain {
  /** Child first, down to the base. */
  chain: VhdImage[];
  /** Each link's file name, child first. */
  names: string[];
  /** The files read (the VHD and its parents), which no output may replace. */
  inputs: InputFile[];
}

/** The picked VHD with its parents attached from `parents` (a differencing VHD without them is refused). */
async function openChain(src: InputFile, parents: ParentSource | null): Promise<OpenedChain> {
  const f = await inputBlob(src);
  const img = await openVhd(new BlobBackend(f, { name: f.name }));
  const names = [f.name];
  const handles: FileSystemFileHandle[] = [];
  if (img.diskType !== "differencing") return { chain: [img], names, inputs: [src] };
  if (!parents) {
    await img.close();
    throw new VhdxError(
      "PARENT_NOT_FOUND",
      `${f.name} is a differencing VHD: choose its parent (unique id ${img.dynamicHeader!.parentUniqueId})`,
      "dynamic disk header",
      img.footer.dataOffset + 40,
    );
  }
  let chain: VhdImage[];
  try {
    chain = await attachVhdParents(img, f.name, { resolve: await vhdParentResolver(parents, names, handles) });
  } catch (e) {
    await img.close();
    throw e;
  }
  return { chain, names, inputs: [src, ...handles.map((handle) => ({ kind: "handle" as const, handle }))] };
}

/**
 * Attaches the picked differencing VHD's parents from the files given, each checked against its
 * child's Parent Unique Id (PARENT_MISMATCH naming the id needed); returns the chain. Nothing is kept open.
 */
export function vhdSourceParents(_ctx: CallContext, src: InputFile, parents: ParentSource): Promise<VhdChainView> {
  return exclusive(async () => {
    const c = await openChain(src, parents);
    try {
      return vhdChainView(c.chain[0], c.names);
    } finally {
      await closeVhdChain(c.chain);
    }
  });
}

/** A VHD (a differencing one read through the parents given) into one new VHDX. */
export function convertVhd(
  ctx: CallContext,
  src: InputFile,
  o: ConvertOptions,
  target: OutputTarget,
  parents: ParentSource | null = null,
): Promise<JobResult> {
  return exclusive(async () => {
    const c = await openChain(src, parents);
    const disk = c.chain[0];
    try {
      const {
        value: r,
        size,
        target: at,
      } = await withOutput(target, c.inputs, (out) =>
        convertToVhdx(disk, out, { ...o, signal: ctx.signal, onProgress: progressOf(ctx) }),
      );
      const through = c.chain.length > 1 ? `, read through ${c.chain.length - 1} parent(s)` : "";
      return {
        summary: `${o.type} VHDX from ${disk.diskType} VHD ${c.names[0]}${through}: ${r.allocatedBlocks} of ${r.totalBlocks} blocks allocated`,
        fileSize: size,
        target: at,
      };
    } finally {
      await closeVhdChain(c.chain);
    }
  });
}

/** The OPFS paths of a kept chain, base first: the child at `path`, each parent as its VHD's name with ".vhdx" beside it. */
export function keptChainPaths(path: string, names: readonly string[]): string[] {
  const { dirs } = splitOpfsPath(path);
  const beside = (n: string) => [...dirs, n].join("/");
  return names
    .map((n, i) => (i === 0 ? path : beside((n.split("/").pop() ?? n).replace(/\.vhd$/i, "") + ".vhdx")))
    .reverse();
}

/**
 * A differencing VHD kept as a differencing VHDX chain in browser storage: every link converted,
 * base first, each child over the VHDX just made of its parent (its DataWriteGuid the child's
 * parent_linkage, its name the child's relative_path). All outputs or none.
 */
export function convertVhdKeepChain(
  ctx: CallContext,
  src: InputFile,
  parents: ParentSource,
  o: ConvertOptions,
  target: OutputTarget,
): Promise<JobResult> {
  return exclusive(async () => {
    if (target.kind !== "opfs")
      throw new VhdxError(
        "INVALID_ARGUMENT",
        "a chain is several files named after one another: write it to browser storage",
        "output file",
      );
    const c = await openChain(src, parents);
    try {
      if (c.chain.length < 2)
        throw new VhdxError(
          "INVALID_ARGUMENT",
          `${c.names[0]} is not a differencing VHD: there is no chain to keep`,
          "footer",
        );
      const paths = keptChainPaths(target.path, c.names);
      const links = c.chain.slice().reverse();
      const total = links.reduce((n, l) => n + l.virtualSize, 0);
      let before = 0;
      const onProgress = (p: { done: number; total: number }) =>
        ctx.progress(total ? (before + p.done) / total : 1, before + p.done);
      const targets = paths.map((path, i) => ({ path, replace: i === paths.length - 1 && target.replace }));
      const written = await withOpfsOutputs(targets, c.inputs, async (outs) => {
        const said: string[] = [];
        for (let i = 0; i < links.length; i++) {
          const link = links[i];
          if (i === 0) {
            const r = await convertToVhdx(link, outs[0], {
              type: o.type,
              blockSize: o.blockSize ?? vhdxBlockSizeFor(link.blockSize || 2 * 1024 * 1024),
              signal: ctx.signal,
              onProgress,
            });
            said.push(`${o.type} base: ${r.allocatedBlocks} of ${r.totalBlocks} blocks`);
          } else {
            // The parent just written, read back: its DataWriteGuid, id and sizes go into the child.
            const parentImg = await openImage(outs[i - 1], { readOnly: true });
            const parentName = paths[i - 1].split("/").pop()!;
            const parent = await forkInfoOf(parentImg, { relativePath: `.\\${parentName}` });
            const r = await convertVhdLinkToVhdx(link, outs[i], {
              parent,
              blockSize: o.blockSize,
              signal: ctx.signal,
              onProgress,
            });
            said.push(`differencing: ${r.fullBlocks} full and ${r.partialBlocks} partial of ${r.totalBlocks} blocks`);
          }
          before += link.virtualSize;
        }
        return said;
      });
      ctx.progress(1, total);
      return {
        summary: `${written.paths.length} VHDX files, base first: ${written.paths.map((p, i) => `${p} (${written.value[i]})`).join("; ")}`,
        fileSize: written.sizes[written.sizes.length - 1],
        target: { kind: "opfs", path: written.paths[written.paths.length - 1] },
      };
    } finally {
      await closeVhdChain(c.chain);
    }
  });
}
