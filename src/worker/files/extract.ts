/**
 * Extract: a file's bytes, or a folder as a .zip, streamed from the file system to a file the
 * user picked (one writable, swapped in when complete, discarded on failure or cancel) or to a
 * Blob for download. Holes are not read; a piece at a time is in memory.
 */
import { makeZip } from "client-zip";
import { FsError } from "../../fs/errors";
import type { FileSystem, FsEntry } from "../../fs/types";
import { fileChunks, joinPath, resolvePath } from "../../fs/walk";
import type { CallContext } from "../protocol";
import { fileSystemOf, filesState } from "./state";

export type ExtractTarget = { kind: "handle"; handle: FileSystemFileHandle } | { kind: "download" };

export interface ExtractResult {
  name: string;
  bytes: number;
  files: number;
  folders: number;
  /** Entries a zip cannot hold as they are (symlinks, devices): named here, left out. */
  skipped: string[];
  /** For a download: the bytes, to hand to the page's download link. */
  blob?: Blob;
}

/** Folders deeper than this are not followed (a loop in a damaged tree ends here). */
const MAX_DEPTH = 4096;

interface Item {
  entry: FsEntry;
  /** Path inside the zip. */
  name: string;
}

/** Every entry under `dir`, depth first, each directory read once; directories met twice are skipped. */
async function walkTree(fs: FileSystem, dir: FsEntry, signal: AbortSignal, skipped: string[]): Promise<Item[]> {
  const items: Item[] = [];
  const seen = new Set<string>([JSON.stringify(dir.ref)]);
  const stack: { entry: FsEntry; name: string; depth: number }[] = [{ entry: dir, name: "", depth: 0 }];
  while (stack.length) {
    const { entry, name, depth } = stack.pop()!;
    const children: FsEntry[] = [];
    for await (const e of fs.readDir(entry)) {
      signal.throwIfAborted();
      children.push(e);
    }
    for (const e of children) {
      const n = joinPath(name, e.name);
      if (e.type === "dir") {
        const key = JSON.stringify(e.ref);
        if (seen.has(key) || depth + 1 > MAX_DEPTH) {
          skipped.push(`${n}/ (a folder met twice: the tree loops)`);
          continue;
        }
        seen.add(key);
        items.push({ entry: e, name: n });
        stack.push({ entry: e, name: n, depth: depth + 1 });
      } else if (e.type === "file") items.push({ entry: e, name: n });
      else skipped.push(`${n} (${e.type}${e.target !== undefined ? ` → ${e.target}` : ""})`);
    }
  }
  return items;
}

async function* fileStream(fs: FileSystem, file: FsEntry, signal: AbortSignal, onBytes: (n: number) => void) {
  // Holes come back as zeros here: a zip stores every byte.
  let at = 0;
  const zeros = new Uint8Array(1024 * 1024);
  for await (const c of fileChunks(fs, file, 4 * 1024 * 1024, signal)) {
    for (; at < c.fileOffset;) {
      const n = Math.min(zeros.length, c.fileOffset - at);
      yield zeros.subarray(0, n);
      at += n;
    }
    yield c.bytes;
    at += c.bytes.length;
    onBytes(c.bytes.length);
  }
  for (; at < file.size;) {
    const n = Math.min(zeros.length, file.size - at);
    yield zeros.subarray(0, n);
    at += n;
  }
}

async function toTarget(
  target: ExtractTarget,
  write: (w: { write(at: number, b: Uint8Array): Promise<void>; truncate(n: number): Promise<void> }) => Promise<void>,
  stream?: ReadableStream<Uint8Array>,
): Promise<Blob | undefined> {
  if (target.kind === "download") {
    if (stream) return new Response(stream).blob();
    // Each piece becomes a Blob of its own, which the browser may keep on disk; holes become zeros.
    const out: Blob[] = [];
    let end = 0;
    let size = 0;
    await write({
      write: async (at, b) => {
        if (at > end) out.push(new Blob([new Uint8Array(at - end)]));
        out.push(new Blob([b as Uint8Array<ArrayBuffer>]));
        end = at + b.length;
      },
      truncate: async (n) => void (size = n),
    });
    if (size > end) out.push(new Blob([new Uint8Array(size - end)]));
    return new Blob(out);
  }
  const w = await target.handle.createWritable({ keepExistingData: false });
  const sink = {
    write: (at: number, b: Uint8Array) => w.write({ type: "write", position: at, data: b as Uint8Array<ArrayBuffer> }),
    truncate: (n: number) => w.truncate(n),
  };
  try {
    if (stream) {
      const reader = stream.getReader();
      for (let at = 0; ;) {
        const { done, value } = await reader.read();
        if (done) break;
        await sink.write(at, value);
        at += value.length;
      }
    } else await write(sink);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
  return undefined;
}

export async function fsExtract(
  ctx: CallContext,
  volume: number,
  path: string,
  target: ExtractTarget,
): Promise<ExtractResult> {
  const st = filesState();
  const { fs } = await fileSystemOf(st, volume);
  const entry = await resolvePath(fs, path);
  const base = entry.name || (fs.label ? fs.label : "volume");
  if (entry.type === "file") {
    let done = 0;
    const blob = await toTarget(target, async (w) => {
      for await (const c of fileChunks(fs, entry, 4 * 1024 * 1024, ctx.signal)) {
        await w.write(c.fileOffset, c.bytes);
        done += c.bytes.length;
        ctx.progress(entry.size ? Math.min(1, (c.fileOffset + c.bytes.length) / entry.size) : 1, done);
      }
      await w.truncate(entry.size);
    });
    return { name: base, bytes: entry.size, files: 1, folders: 0, skipped: [], blob };
  }
  if (entry.type !== "dir") {
    throw new FsError("FS_NOT_A_FILE", `${path} is a ${entry.type}; only files and folders can be extracted`, "path");
  }
  const skipped: string[] = [];
  const items = await walkTree(fs, entry, ctx.signal, skipped);
  const total = items.reduce((n, i) => n + (i.entry.type === "file" ? i.entry.size : 0), 0);
  let done = 0;
  const onBytes = (n: number) => {
    done += n;
    ctx.progress(total ? Math.min(1, done / total) : 1, done);
  };
  const signal = ctx.signal;
  async function* inputs() {
    for (const i of items) {
      const lastModified = i.entry.mtime !== null ? new Date(i.entry.mtime) : undefined;
      if (i.entry.type === "dir") yield { name: `${i.name}/`, lastModified };
      else yield { name: i.name, lastModified, size: i.entry.size, input: fileStream(fs, i.entry, signal, onBytes) };
    }
  }
  const blob = await toTarget(target, async () => undefined, makeZip(inputs()));
  const files = items.filter((i) => i.entry.type === "file").length;
  return { name: `${base}.zip`, bytes: total, files, folders: items.length - files, skipped, blob };
}
