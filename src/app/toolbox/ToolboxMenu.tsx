/** The toolbox's entries in the top bar: new image, convert, chain, check and repair, storage; their dialogs. */
import { useApp } from "../store/store";
import { ChainDialog } from "./ChainDialog";
import { CheckDialog } from "./CheckDialog";
import { useCheck } from "./checkStore";
import { ConvertDialog } from "./ConvertDialog";
import { useJob } from "./jobStore";
import { NewImageDialog } from "./NewImageDialog";
import { ResizeDialog } from "./ResizeDialog";
import { useResize } from "./resizeStore";
import { StorageDialog } from "./StorageDialog";
import { useStorage } from "./storageStore";
import { WorkingCopyDialog } from "./WorkingCopyDialog";
import { ReportDialog, useReport } from "./ReportDialog";
import "./toolbox.css";

export function ToolboxMenu() {
  const info = useApp((s) => s.info);
  const busy = useApp((s) => s.status === "opening");
  const showCheck = useCheck((s) => s.show);
  const show = useJob((s) => s.show);
  const showStorage = useStorage((s) => s.show);
  const showResize = useResize((s) => s.show);
  const showReport = useReport((s) => s.show);
  return (
    <>
      <span className="topbar-sep" aria-hidden="true" />
      <button
        type="button"
        onClick={() => show("new")}
        disabled={busy}
        title="Create a fixed, dynamic or differencing image"
      >
        New image
      </button>
      <button
        type="button"
        onClick={() => show("convert")}
        disabled={busy}
        title="Raw to VHDX, VHDX to raw, compact, merge"
      >
        Convert
      </button>
      {info?.diskType === "differencing" && (
        <button
          type="button"
          onClick={() => show("chain")}
          disabled={busy}
          title="The differencing chain: parents and their share"
        >
          Chain
        </button>
      )}
      <button
        type="button"
        onClick={showCheck}
        disabled={!info || busy}
        title="Check every rule of the format; repair what is safe"
      >
        Check
      </button>
      <button
        type="button"
        onClick={showResize}
        disabled={!info || busy}
        title="Grow or shrink the virtual disk (the file system inside is not touched)"
      >
        Resize…
      </button>
      <button
        type="button"
        onClick={showReport}
        disabled={!info || busy}
        title="Export what the editor knows about the file (SHA-256, structures, log, findings) as JSON or Markdown"
      >
        Report
      </button>
      <button type="button" onClick={showStorage} title="Files kept in the browser's storage, and its quota">
        Storage
      </button>
      <NewImageDialog />
      <ConvertDialog />
      <ChainDialog />
      <CheckDialog />
      <StorageDialog />
      <ResizeDialog />
      <WorkingCopyDialog />
      <ReportDialog />
    </>
  );
}
