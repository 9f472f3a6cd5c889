import {
  deserializeError,
  isFromWorker,
  type MethodArgs,
  type MethodResult,
  type MethodTable,
  type Port,
} from "../../worker/protocol";

export interface ProgressEvent {
  /** 0..1 */
  fraction: number;
  bytes: number;
}

export interface CallOptions {
  onProgress?: (p: ProgressEvent) => void;
  /** Aborting it cancels the call in the worker. */
  signal?: AbortSignal;
  /** Buffers among the arguments to transfer instead of copy. */
  transfer?: Transferable[];
}

/** A call in flight: a promise that can also report progress and be cancelled. */
export interface Pending<T> extends Promise<T> {
  readonly id: number;
  /** Registers a progress listener; returns the same pending call for chaining. */
  onProgress(cb: (p: ProgressEvent) => void): Pending<T>;
  /** Asks the worker to abort; the promise then rejects with a VhdxError of code CANCELLED. */
  cancel(): void;
}

export type RpcMethods<T extends MethodTable> = {
  [K in keyof T & string]: (...args: MethodArgs<T[K]>) => Pending<MethodResult<T[K]>>;
};

export interface RpcClient<T extends MethodTable> {
  /** Calls `method` with options (progress, cancellation, transfers). */
  call<K extends keyof T & string>(method: K, args: MethodArgs<T[K]>, opts?: CallOptions): Pending<MethodResult<T[K]>>;
  /** The typed methods: `client.api.open(source)`. */
  readonly api: RpcMethods<T>;
  /** Cancels one call by id, or every call in flight. */
  cancel(id?: number): void;
  /** Calls still waiting for an answer. */
  readonly inFlight: number;
  /** Stops listening; calls in flight reject. */
  dispose(): void;
}

interface Waiting {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  listeners: ((p: ProgressEvent) => void)[];
}

export function createRpcClient<T extends MethodTable>(port: Port): RpcClient<T> {
  let nextId = 1;
  const waiting = new Map<number, Waiting>();

  const onMessage = (ev: MessageEvent): void => {
    const m: unknown = ev.data;
    if (!isFromWorker(m)) return;
    const w = waiting.get(m.id);
    if (!w) return;
    if (m.type === "progress") {
      for (const l of w.listeners) l({ fraction: m.fraction, bytes: m.bytes });
      return;
    }
    waiting.delete(m.id);
    if (m.type === "result") w.resolve(m.value);
    else w.reject(deserializeError(m.error));
  };
  port.addEventListener("message", onMessage);

  const cancel = (id?: number): void => {
    const ids = id === undefined ? [...waiting.keys()] : [id];
    for (const i of ids) if (waiting.has(i)) port.postMessage({ type: "cancel", id: i }, []);
  };

  function call<K extends keyof T & string>(
    method: K,
    args: MethodArgs<T[K]>,
    opts: CallOptions = {},
  ): Pending<MethodResult<T[K]>> {
    const id = nextId++;
    const listeners: ((p: ProgressEvent) => void)[] = opts.onProgress ? [opts.onProgress] : [];
    const promise = new Promise<MethodResult<T[K]>>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, listeners });
    });
    if (opts.signal) {
      if (opts.signal.aborted) queueMicrotask(() => cancel(id));
      else opts.signal.addEventListener("abort", () => cancel(id), { once: true });
    }
    try {
      port.postMessage({ type: "call", id, method, args }, opts.transfer ?? []);
    } catch (e) {
      waiting.delete(id);
      return decorate(Promise.reject(e) as Promise<MethodResult<T[K]>>, id, listeners, cancel);
    }
    return decorate(promise, id, listeners, cancel);
  }

  const api = new Proxy({} as RpcMethods<T>, {
    get(_target, prop) {
      if (typeof prop !== "string" || prop === "then") return undefined;
      return (...args: unknown[]) => call(prop as keyof T & string, args as MethodArgs<T[keyof T & string]>);
    },
  });

  return {
    call,
    api,
    cancel,
    get inFlight() {
      return waiting.size;
    },
    dispose() {
      port.removeEventListener("message", onMessage);
      for (const w of waiting.values()) w.reject(new Error("The engine client was closed"));
      waiting.clear();
    },
  };
}

function decorate<T>(
  promise: Promise<T>,
  id: number,
  listeners: ((p: ProgressEvent) => void)[],
  cancel: (id: number) => void,
): Pending<T> {
  const pending = promise as Pending<T>;
  Object.defineProperties(pending, {
    id: { value: id },
    onProgress: {
      value: (cb: (p: ProgressEvent) => void) => {
        listeners.push(cb);
        return pending;
      },
    },
    cancel: { value: () => cancel(id) },
  });
  return pending;
}
