/** Messages above the views: a log that needs replay, why the image is read-only, inspection mode, errors. */
import { useState } from "react";
import { useChain } from "../toolbox/chainStore";
import { useWorkingCopy } from "../toolbox/workingCopyStore";
import { useApp } from "../store/store";
import { ReplayConfirm } from "./ReplayConfirm";

/** "opened from …" → "Opened from …": a reason from the worker as the start of a sentence. */
const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

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
  const { info, error, dismissError, inspection, replaying, setTab, caps, enableEditing, openedFromFile } = useApp();
  const [confirm, setConfirm] = useState(false);
  const replayWhyNot = info ? replayBlocker(caps.replay, info) : undefined;
  // Read-only for a reason of its own (a pending log has its banner above), wherever the user is.
  const readOnly = info?.readOnly && !info.logAwaitsReplay;
  // Without its parent a differencing image cannot be edited at all: the chain dialog is the way there.
  const parentAttached = useChain((s) => s.locator?.attached ?? false);
  const parentMissing = info?.diskType === "differencing" && !parentAttached;
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
          <button type="button" onClick={() => setConfirm(true)} disabled={!!replayWhyNot || replaying}>
            {replaying ? "Replaying…" : "Replay now"}
          </button>
          {replayWhyNot && (
            <span className="disabled-reason" role="note" aria-label="Why Replay now is unavailable">
              {replayWhyNot}.
            </span>
          )}
        </div>
      )}
      {readOnly && (
        <div className="banner readonly" role="status" aria-label="Read-only">
          <span>
            <strong>Read-only.</strong> {sentence(info.readOnlyReason ?? "the image is open read-only")}.
          </span>
          {caps.commit && !parentMissing && (
            <button
              type="button"
              onClick={() => void (openedFromFile ? useWorkingCopy.getState().request() : enableEditing())}
            >
              {openedFromFile && caps.workingCopy ? "Edit a working copy" : "Enable editing"}
            </button>
          )}
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
