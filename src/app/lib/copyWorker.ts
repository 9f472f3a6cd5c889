/**
 * The page's handle on the formatting worker, started at the first copy (never on first load) and
 * kept for the next ones.
 */
import type { Port } from "../../worker/protocol";
import { createRpcClient, type RpcClient } from "../engine/rpc";
import type { CopyFormat } from "./copyFormat";
import type { CopyMethods, CopyWrite } from "./copyJob";

let client: RpcClient<CopyMethods> | null = null;

/** Formats in the worker; `bytes` is transferred (the caller must not use it afterwards). */
export function formatInWorker(
  format: CopyFormat,
  bytes: Uint8Array,
  offset: number,
  space: string,
  writes: CopyWrite[],
): Promise<string> {
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
