/**
 * The page's handle on the formatting worker, started at the first copy (never on first load) and
 * kept for the next ones.
 */
import type { Port } from "../../worker/protocol";
import { createRpcClient, type RpcClient } from "../engine/rpc";
import type { CopyFormat } from "./copyFormat";
import type { CopyMethods, CopyWrite } from "./copyJob";

let client: RpcClient<CopyMethods> | null = null;

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
  client ??= createRpcClient<CopyMethods>(
    new Worker(new URL("./copyFormat.worker.ts", import.meta.url), {
      type: "module",
      name: "vhdx-copy-format",
    }) as unknown as Port,
  );
  // Transfer only a buffer the view owns whole; a view into a larger one is copied instead.
  const whole =
    bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const transfer = whole ? [bytes.buffer as ArrayBuffer] : [];
  return client.call("format", [format, bytes, offset, space, writes], { transfer });
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
