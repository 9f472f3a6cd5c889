/**
 * The page's handle on the formatting worker, started at the first copy (never on first load) and
 * kept for the next ones.
 */
import type { Port } from "../../worker/protocol";
import { createRpcClient, type RpcClient } from "../engine/rpc";
import type { CopyFormat } from "./copyFormat";
import type { CopyMethods, CopyWrite } from "./copyJob";

interface Formatter {
  client: RpcClient<CopyMethods>;
  /** Rejects when the worker fails (it could not load, or it threw outside a call). */
  failed: Promise<never>;
}

let formatter: Formatter | null = null;

function start(): Formatter {
  const worker = new Worker(new URL("./copyFormat.worker.ts", import.meta.url), {
    type: "module",
    name: "vhdx-copy-format",
  });
  const client = createRpcClient<CopyMethods>(worker as unknown as Port);
  const failed = new Promise<never>((_resolve, reject) => {
    worker.addEventListener(
      "error",
      (e) => {
        // A copy waiting on a dead worker would say "Copying…" forever: fail it, start afresh next time.
        reject(new Error(`the formatting worker stopped${e.message ? `: ${e.message}` : ""}`));
        client.dispose();
        worker.terminate();
        if (formatter?.client === client) formatter = null;
      },
      { once: true },
    );
  });
  failed.catch(() => {}); // reported through the calls that race it
  return { client, failed };
}

/**
 * Formats in the worker: the text's ASCII bytes. `bytes` is transferred (the caller must not use
 * it afterwards).
 */
export function formatInWorker(
  format: CopyFormat,
  bytes: Uint8Array,
  offset: number,
  space: string,
  writes: CopyWrite[],
): Promise<Uint8Array> {
  const f = (formatter ??= start());
  // Transfer only a buffer the view owns whole; a view into a larger one is copied instead.
  const whole =
    bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const transfer = whole ? [bytes.buffer as ArrayBuffer] : [];
  return Promise.race([f.client.call("format", [format, bytes, offset, space, writes], { transfer }), f.failed]);
}

/**
 * Puts ASCII text on the clipboard as a plain-text Blob: the page never holds it as a string (a
 * 100 MB string takes the main thread tens of milliseconds to build and again to hand over).
 * Without ClipboardItem the text is decoded and written as a string.
 */
export async function writeAsciiToClipboard(ascii: Uint8Array): Promise<void> {
  if (typeof ClipboardItem !== "undefined" && typeof navigator.clipboard.write === "function") {
    const blob = new Blob([ascii as Uint8Array<ArrayBuffer>], { type: "text/plain" });
    await navigator.clipboard.write([new ClipboardItem({ "text/plain": blob })]);
    return;
  }
  await navigator.clipboard.writeText(new TextDecoder().decode(ascii));
}
