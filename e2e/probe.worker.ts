/**
 * The engine worker as shipped, plus raw storage access for the storage tests: it proves the
 * backends' byte round trip through a real worker before the write engine exists. Never loaded by
 * the app.
 */
import { VhdxError } from "../src/vhdx/errors";
import { serve } from "../src/worker/host";
import { currentSession, methods } from "../src/worker/methods";
import type { CallContext, Port } from "../src/worker/protocol";
import { WritableHandleBackend } from "../src/worker/storage/writableHandleBackend";

export interface RawWrite {
  offset: number;
  data: Uint8Array;
}

/** Writes raw bytes to the open image's storage as one commit, then flushes. */
async function rawCommit(_ctx: CallContext, writes: RawWrite[], opts: { failAfter?: number; truncate?: number } = {}) {
  const backend = currentSession().backend;
  const run = async () => {
    let n = 0;
    for (const w of writes) {
      if (opts.failAfter !== undefined && n++ >= opts.failAfter)
        throw new VhdxError("CANCELLED", "commit cancelled midway", "probe");
      await backend.write(w.offset, w.data);
    }
    if (opts.truncate !== undefined) await backend.truncate(opts.truncate);
    await backend.flush();
  };
  if (backend instanceof WritableHandleBackend) {
    const r = await backend.batch(run);
    return { atomic: r.atomic, commits: backend.commits.length };
  }
  await run();
  return { atomic: true, commits: 0 };
}

/** Raw storage bytes, bypassing the engine (reads staged writes too). */
async function rawRead(_ctx: CallContext, offset: number, length: number) {
  return currentSession().backend.read(offset, length);
}

async function rawSize() {
  return currentSession().backend.size();
}

export const probeMethods = { ...methods, rawCommit, rawRead, rawSize };
export type ProbeMethods = typeof probeMethods;

serve(self as unknown as Port, probeMethods);
