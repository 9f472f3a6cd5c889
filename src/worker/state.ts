import { VhdxError } from "../vhdx/errors";
import type { Session } from "./session";
import type { VhdSession } from "./vhdSession";

/** The worker's one open image. Methods reach it through current(). */
let session: Session | null = null;

export function getSession(): Session | null {
  return session;
}

export function setSession(s: Session | null): void {
  session = s;
}

/** The open VHD (v1) disk, when the image open is one (then there is no VHDX session). */
let vhdSession: VhdSession | null = null;

export function getVhdSession(): VhdSession | null {
  return vhdSession;
}

export function setVhdSession(s: VhdSession | null): void {
  vhdSession = s;
}

/** The open session, or a VhdxError saying nothing is open. */
export function current(): Session {
  if (!session && vhdSession)
    throw new VhdxError(
      "READ_ONLY",
      `${vhdSession.name} is a VHD (v1) disk, open read-only: this works on VHDX images only`,
      vhdSession.name,
    );
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
