/**
 * The one place the store gets its engine from. The worker client (src/app/engine/) plugs in
 * here; everything else in the app talks to the EngineApi interface only.
 */
import type { EngineApi } from "./engineApi";

/** Returns the engine client, or null when this build carries no engine worker. */
export function connectEngine(): EngineApi | null {
  return null;
}
