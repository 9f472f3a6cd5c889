/** Messages above the views: a log that needs replay, inspection mode, errors. */
import { useState } from "react";
import { useApp } from "../store/store";
import { ReplayConfirm } from "./ReplayConfirm";

/** Why "Replay now" cannot run, or undefined when it can. */
export function replayBlocker(
  canReplay: boolean,
  info: { readOnly: boolean; readOnlyReason: string | null; logAwaitsReplay: boolean },
): string | undefined {
  if (!canReplay) return "This build's engine worker cannot replay logs";
  // Read-only only because of the pending log: replaying is exactly what makes it editable.
  if (info.readOnly && !info.logAwaitsReplay) {
    return `The image is open read-only${info.readOnlyReason ? `: ${info.readOnlyReason}` : ""}`;
  }
  return undefined;
}

export function Banners() {
  const { info, error, dismissError, inspection, replaying, setTab, caps } = useApp();
  const [confirm, setConfirm] = useState(false);
  return (
    <div className="banners">
      {error && (
        <div className="banner error" role="alert">
          <span>{error}</span>
          <button type="button" onClick={dismissError} aria-label="Dismiss error">
            ✕
          </button>
        </div>
      )}
      {info?.log.needsReplay && (
        <div className="banner warn" role="status">
          <span>
            <strong>The log needs replay.</strong> You are seeing the replayed state; the file itself is untouched until
            you replay or commit.
          </span>
          <button type="button" onClick={() => setTab("Log")}>
            Show log
          </button>
          <button
            type="button"
            onClick={() => setConfirm(true)}
            disabled={!!replayBlocker(caps.replay, info) || replaying}
            title={replayBlocker(caps.replay, info)}
          >
            {replaying ? "Replaying…" : "Replay now"}
          </button>
        </div>
      )}
      {inspection && (
        <div className="banner inspect" role="status">
          <span>
            <strong>Inspection mode.</strong> This image is damaged: everything that could be read is shown, the
            findings are in the side panel, and nothing is written unless you ask.
          </span>
        </div>
      )}
      <ReplayConfirm open={confirm} onClose={() => setConfirm(false)} />
    </div>
  );
}
