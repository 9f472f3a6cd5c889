import { VhdxError } from "../vhdx/errors";
import {
  Transfer,
  isToWorker,
  serializeError,
  type CallContext,
  type FromWorker,
  type MethodTable,
  type Port,
} from "./protocol";

/** Progress crosses to the UI at most this often (plus the final 100%). */
const PROGRESS_INTERVAL_MS = 100;

/**
 * Serves a method table on a port (the worker's global scope, or a MessagePort in tests).
 * Calls run concurrently; each gets its own AbortSignal, aborted by a cancel message.
 * Returns a function that stops serving.
 */
export function serve(port: Port, methods: MethodTable, now: () => number = () => Date.now()): () => void {
  const running = new Map<number, AbortController>();
  const post = (m: FromWorker, list: Transferable[] = []): void => port.postMessage(m, list);

  const onMessage = (ev: MessageEvent): void => {
    const m: unknown = ev.data;
    if (!isToWorker(m)) return;
    if (m.type === "cancel") {
      running.get(m.id)?.abort(new VhdxError("CANCELLED", "Cancelled", "request"));
      return;
    }
    const { id, method, args } = m;
    const fn = Object.prototype.hasOwnProperty.call(methods, method) ? methods[method] : undefined;
    if (!fn) {
      post({
        type: "error",
        id,
        error: serializeError(new VhdxError("INVALID_ARGUMENT", `No engine method "${method}"`, "request")),
      });
      return;
    }
    const ctl = new AbortController();
    running.set(id, ctl);
    let last = -Infinity;
    const ctx: CallContext = {
      signal: ctl.signal,
      progress(fraction, bytes) {
        const t = now();
        if (fraction < 1 && t - last < PROGRESS_INTERVAL_MS) return;
        last = t;
        post({ type: "progress", id, fraction: Math.min(1, Math.max(0, fraction)), bytes });
      },
    };
    void (async () => {
      try {
        const value = await (fn as (ctx: CallContext, ...a: unknown[]) => unknown)(ctx, ...args);
        if (value instanceof Transfer) post({ type: "result", id, value: value.value }, value.list);
        else post({ type: "result", id, value });
      } catch (e) {
        // A method that noticed the abort may throw a DOM AbortError; report it as the engine's CANCELLED.
        const err =
          ctl.signal.aborted && !(e instanceof VhdxError) ? new VhdxError("CANCELLED", "Cancelled", "request") : e;
        post({ type: "error", id, error: serializeError(err) });
      } finally {
        running.delete(id);
      }
    })();
  };
  port.addEventListener("message", onMessage);
  return () => {
    port.removeEventListener("message", onMessage);
    for (const c of running.values()) c.abort();
    running.clear();
  };
}
