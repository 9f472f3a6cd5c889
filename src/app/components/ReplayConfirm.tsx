/** The confirmation before a log replay, the one place it is worded; the banner and the Log view open it. */
import { plural } from "../lib/format";
import { useApp } from "../store/store";
import { ConfirmDialog } from "./Dialog";
import { ReplayChangesList } from "./ReplayChanges";

export function ReplayConfirm(props: { open: boolean; onClose: () => void; changes?: number }) {
  const replayLog = useApp((s) => s.replayLog);
  const log = useApp((s) => s.log);
  const what =
    props.changes === undefined ? "the log's active sequence" : `the ${plural(props.changes, "change")} listed`;
  return (
    <ConfirmDialog
      title="Replay the log"
      open={props.open}
      confirmLabel="Replay now"
      onConfirm={() => void replayLog()}
      onClose={props.onClose}
    >
      <p>
        Replaying writes {what} into the file in place (MS-VHDX §2.3.3), then marks the log empty. This changes the file
        on disk.
      </p>
      {log && log.active && (
        <>
          <p>What changes:</p>
          <ReplayChangesList log={log} label="Changes the replay makes" />
        </>
      )}
    </ConfirmDialog>
  );
}
