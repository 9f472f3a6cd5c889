/**
 * The rules every job that writes a file keeps (new image, convert, compact, import, save):
 *
 * - it never writes onto a file that is open (the image in the editor, its attached parents) or
 *   onto its own input: FILE_IN_USE, whatever the user agreed to;
 * - in browser storage it never replaces a file unless the user agreed to replace that name:
 *   FILE_EXISTS otherwise;
 * - it writes to a fresh file and gives it the asked name only when complete, so a failure or a
 *   cancel leaves the old file (if any) whole and no partial output behind.
 *
 * A file the save picker gives was agreed to by the user in the browser's own dialog; it is
 * written through one writable, which the browser swaps in on close or discards.
 */
import { VhdxError } from "../vhdx/errors";
import type { RandomAccess } from "../vhdx/io";
import { getSession } from "./state";
import { fileExists } from "./storage/copy";
import { PARTIAL_SUFFIX } from "./storage/names";
import { existingOpfsFile, normalizeOpfsPath, opfsFile, placeOpfsFile, removeOpfsFile } from "./storage/opfs";
import { OpfsSyncBackend } from "./storage/opfsSyncBackend";
import { WritableHandleBackend } from "./storage/writableHandleBackend";

/** Where a job writes: a file from the save picker, or an OPFS path (`replace`: the user agreed to replace a file there). */
export type OutputTarget =
  { kind: "handle"; handle: FileSystemFileHandle } | { kind: "opfs"; path: string; replace?: boolean };

/** A file a job reads: picked (a handle) or given (a File from an input or a drop). */
export type InputFile = { kind: "handle"; handle: FileSystemFileHandle } | { kind: "file"; file: File };

export async function sameEntry(a: FileSystemHandle, b: FileSystemHandle): Promise<boolean> {
  try {
    return await a.isSameEntry(b);
  } catch {
    return false;
  }
}

interface OpenFile {
  handle: FileSystemFileHandle;
  kind: "image" | "parent";
  role: string;
}

/** The files the worker holds open (the image, then its attached parents), each with what it is to the user. */
export async function openFiles(): Promise<OpenFile[]> {
  const s = getSession();
  if (!s) return [];
  const out: OpenFile[] = [];
  const role = "it is open in the editor";
  if (s.source.kind === "handle") out.push({ handle: s.source.handle, kind: "image", role });
  if (s.source.kind === "opfs") {
    const h = await existingOpfsFile(s.source.path);
    if (h) out.push({ handle: h, kind: "image", role });
  }
  for (const h of s.parentHandles ?? [])
    out.push({ handle: h, kind: "parent", role: "it is a parent of the image open in the editor" });
  return out;
}

/** Why `target` may not be written now (open, a parent of the open image, or the job's input), or null. */
export async function inUse(target: FileSystemFileHandle, inputs: readonly InputFile[] = []): Promise<string | null> {
  for (const f of await openFiles()) if (await sameEntry(f.handle, target)) return f.role;
  for (const i of inputs)
    if (i.kind === "handle" && (await sameEntry(i.handle, target))) return "it is this job's input";
  return null;
}

export async function refuseInUse(
  target: FileSystemFileHandle,
  name: string,
  inputs: readonly InputFile[] = [],
): Promise<void> {
  const why = await inUse(target, inputs);
  if (why) {
    throw new VhdxError("FILE_IN_USE", `${name} cannot be written: ${why}; choose another file or name`, "output file");
  }
}

/**
 * Runs `fn` on a fresh, empty output and returns what it gave, the output's size and where it
 * finally is. See the rules above.
 */
export async function withOutput<T>(
  target: OutputTarget,
  inputs: readonly InputFile[],
  fn: (out: RandomAccess) => Promise<T>,
): Promise<{ value: T; size: number; target: OutputTarget }> {
  if (target.kind === "handle") {
    await refuseInUse(target.handle, target.handle.name, inputs);
    const out = await WritableHandleBackend.open(target.handle, { overlayBudget: 32 * 1024 * 1024 });
    try {
      const { value } = await out.batch(async () => {
        await out.truncate(0);
        return fn(out);
      });
      return { value, size: await out.size(), target };
    } finally {
      await out.close();
    }
  }
  const path = normalizeOpfsPath(target.path);
  const old = await existingOpfsFile(path);
  if (old) {
    await refuseInUse(old, path, inputs);
    if (!target.replace) throw fileExists(path);
  }
  const partial = `${path}${PARTIAL_SUFFIX}`;
  const out = await OpfsSyncBackend.open(await opfsFile(partial, { create: true }), partial);
  let ok = false;
  let result: { value: T; size: number };
  try {
    await out.truncate(0);
    const value = await fn(out);
    await out.flush();
    result = { value, size: await out.size() };
    ok = true;
  } finally {
    await out.close();
    if (!ok) await removeOpfsFile(partial).catch(() => undefined);
  }
  try {
    await placeOpfsFile(partial, path);
  } catch (e) {
    await removeOpfsFile(partial).catch(() => undefined);
    throw e;
  }
  return { ...result, target: { kind: "opfs", path } };
}

/**
 * Several files written as one output into browser storage (a differencing chain, base first):
 * every name is checked before anything is written (two outputs of one name, a name taken that the
 * user did not agree to replace, a file in use are refused); each is written under a temporary
 * name, and they are named in order only once `fn` has finished all of them. On failure or cancel
 * the temporary files go, and so do outputs already named, so nothing partial is left.
 */
export async function withOpfsOutputs<T>(
  targets: readonly { path: string; replace?: boolean }[],
  inputs: readonly InputFile[],
  fn: (outs: RandomAccess[]) => Promise<T>,
): Promise<{ value: T; sizes: number[]; paths: string[] }> {
  const paths = targets.map((t) => normalizeOpfsPath(t.path));
  const replaced = new Set<string>();
  for (let i = 0; i < paths.length; i++) {
    if (paths.indexOf(paths[i]) !== i)
      throw new VhdxError(
        "INVALID_ARGUMENT",
        `two outputs would both be written to ${paths[i]}; rename one of the files`,
        "output file",
      );
    const old = await existingOpfsFile(paths[i]);
    if (!old) continue;
    await refuseInUse(old, paths[i], inputs);
    if (!targets[i].replace) throw fileExists(paths[i]);
    replaced.add(paths[i]);
  }
  const partials = paths.map((p) => `${p}${PARTIAL_SUFFIX}`);
  const outs: OpfsSyncBackend[] = [];
  const placed: string[] = [];
  let ok = false;
  try {
    for (const p of partials) {
      const out = await OpfsSyncBackend.open(await opfsFile(p, { create: true }), p);
      outs.push(out);
      await out.truncate(0);
    }
    const value = await fn(outs);
    const sizes: number[] = [];
    for (const out of outs) {
      await out.flush();
      sizes.push(await out.size());
    }
    for (const out of outs.splice(0)) await out.close();
    for (let i = 0; i < paths.length; i++) {
      await placeOpfsFile(partials[i], paths[i]);
      placed.push(paths[i]);
    }
    ok = true;
    return { value, sizes, paths };
  } finally {
    for (const out of outs) await out.close().catch(() => undefined);
    if (!ok) {
      for (const p of partials) await removeOpfsFile(p).catch(() => undefined);
      // A file named here that replaced nothing goes; one that replaced a file stays (it is whole).
      for (const p of placed) if (!replaced.has(p)) await removeOpfsFile(p).catch(() => undefined);
    }
  }
}
