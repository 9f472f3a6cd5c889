import { FsError, type FsErrorCode } from "../fs/errors";
import { VhdxError, type VhdxErrorCode } from "../vhdx/errors";

/**
 * The message protocol between the UI thread and the engine worker.
 *
 *   UI → worker   { type: "call", id, method, args }     args structured-cloned, bulk bytes transferred
 *                 { type: "cancel", id }                 aborts the AbortSignal handed to that call
 *   worker → UI   { type: "progress", id, fraction, bytes }
 *                 { type: "result", id, value }          bulk bytes transferred, never copied twice
 *                 { type: "error", id, error }           a VhdxError keeps code, structure and offset
 */
export interface CallMessage {
  type: "call";
  id: number;
  method: string;
  args: unknown[];
}

export interface CancelMessage {
  type: "cancel";
  id: number;
}

export interface ProgressMessage {
  type: "progress";
  id: number;
  /** 0..1 */
  fraction: number;
  /** Bytes processed so far. */
  bytes: number;
}

export interface ResultMessage {
  type: "result";
  id: number;
  value: unknown;
}

export interface ErrorMessage {
  type: "error";
  id: number;
  error: SerializedError;
}

export type ToWorker = CallMessage | CancelMessage;
export type FromWorker = ProgressMessage | ResultMessage | ErrorMessage;

export interface SerializedError {
  name: string;
  message: string;
  code?: VhdxErrorCode;
  fsCode?: FsErrorCode;
  structure?: string;
  offset?: number;
}

/** What a method receives besides its arguments. */
export interface CallContext {
  /** Aborted when the caller cancels; long operations check it between steps. */
  readonly signal: AbortSignal;
  /** Reports progress; the host throttles what actually crosses to the UI. */
  progress(fraction: number, bytes: number): void;
}

/** A method's result together with the buffers to transfer instead of copy. */
export class Transfer<T> {
  readonly value: T;
  readonly list: Transferable[];
  constructor(value: T, list: Transferable[]) {
    this.value = value;
    this.list = list;
  }
}

export function transfer<T>(value: T, list: Transferable[]): Transfer<T> {
  return new Transfer(value, list);
}

/**
 * A table of worker methods. Adding a method to the engine worker is one entry here plus a
 * function `(ctx, ...args) => Promise<result>`; the client's types follow from the table.
 */
export type MethodTable = Record<string, (ctx: CallContext, ...args: never[]) => unknown>;

export type MethodArgs<F> = F extends (ctx: CallContext, ...args: infer A) => unknown ? A : never;
export type MethodResult<F> = F extends (...args: never[]) => infer R ? Unwrap<Awaited<R>> : never;
type Unwrap<R> = R extends Transfer<infer V> ? V : R;

export function serializeError(e: unknown): SerializedError {
  if (e instanceof VhdxError) {
    return { name: e.name, message: e.message, code: e.code, structure: e.structure, offset: e.offset };
  }
  if (e instanceof FsError) {
    return { name: e.name, message: e.message, fsCode: e.code, structure: e.structure, offset: e.offset };
  }
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

/** Rebuilds the error on the UI side: a VhdxError again when it was one, so views can link its offset. */
export function deserializeError(s: SerializedError): Error {
  if (s.code) return new VhdxError(s.code, s.message, s.structure ?? "", s.offset);
  if (s.fsCode) return new FsError(s.fsCode, s.message, s.structure ?? "", s.offset);
  const e = new Error(s.message);
  e.name = s.name;
  return e;
}

export function isToWorker(m: unknown): m is ToWorker {
  if (typeof m !== "object" || m === null) return false;
  const r = m as Record<string, unknown>;
  if (typeof r.id !== "number") return false;
  if (r.type === "cancel") return true;
  return r.type === "call" && typeof r.method === "string" && Array.isArray(r.args);
}

export function isFromWorker(m: unknown): m is FromWorker {
  if (typeof m !== "object" || m === null) return false;
  const r = m as Record<string, unknown>;
  return typeof r.id === "number" && (r.type === "progress" || r.type === "result" || r.type === "error");
}

/** The minimal port both a Worker, the worker's global scope and a MessagePort provide. */
export interface Port {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
}
