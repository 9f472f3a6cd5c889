import { VhdxError } from "../vhdx/errors";
import type { Session } from "./session";

/** The worker's one open image. Methods reach it through current(). */
let session: Session | null = null;

export function getSession(): Session | null {
  return session;
}

export function setSession(s: Session | null): void {
  session = s;
}

/** The open session, or a VhdxError saying nothing is open. */
export function current(): Session {
  if (!session) throw new VhdxError("INVALID_ARGUMENT", "No image is open", "engine");
  return session;
}

/** open/close/import/save/commit run one at a time; reads run freely between them. */
let queue: Promise<unknown> = Promise.resolve();
export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}
