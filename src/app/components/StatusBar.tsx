/** File, disk type, sizes, sector sizes and access mode, always visible at the bottom. */
import { useState } from "react";
import { formatSize } from "../lib/format";
import { SaveBackDialog } from "../toolbox/SaveBackDialog";
import { useApp } from "../store/store";

export function StatusBar() {
  const { info, fileName, status, progress, workingCopy, caps, saveCopy, editRefusal, vhd } = useApp();
  const [savingBack, setSavingBack] = useState(false);
  return (
    <footer className="statusbar" aria-label="Status">
      {status === "opening" && (
        <span role="status">
          Opening {fileName}
          {progress && progress.total > 0
            ? ` — ${progress.phase} ${Math.round((100 * progress.done) / progress.total)}%`
            : "…"}
        </span>
      )}
      {status !== "opening" && !info && !vhd && <span>No image open</span>}
      {status !== "opening" && vhd && (
        <>
          <span title="File">
            {fileName} · {formatSize(vhd.fileSize)}
          </span>
          <span>VHD {vhd.diskType}</span>
          <span title="Virtual size">virtual {formatSize(vhd.virtualSize)}</span>
          <span className="badge">read-only</span>
        </>
      )}
      {status !== "opening" && info && (
        <>
          <span title="File">
            {fileName ?? info.fileName} · {formatSize(info.fileSize)}
          </span>
          <span>{info.diskType}</span>
          <span title="Virtual size">virtual {formatSize(info.virtualSize)}</span>
          <span title="Block size">block {formatSize(info.blockSize)}</span>
          <span title="Logical / physical sector size">
            sectors {info.logicalSectorSize} / {info.physicalSectorSize}
          </span>
          <span
            className={info.readOnly || editRefusal ? "badge" : "badge editable"}
            title={info.readOnlyReason ?? editRefusal ?? undefined}
          >
            {info.readOnly
              ? info.logAwaitsReplay
                ? "read-only until the log is replayed"
                : "read-only"
              : editRefusal
                ? "not editable"
                : "editable"}
          </span>
          {workingCopy && caps.save && (
            <button type="button" className="statusbar-button" onClick={() => void saveCopy()}>
              Save a copy…
            </button>
          )}
          {workingCopy && (
            <button type="button" className="statusbar-button" onClick={() => setSavingBack(true)}>
              Save back…
            </button>
          )}
          <SaveBackDialog open={savingBack} onClose={() => setSavingBack(false)} />
        </>
      )}
    </footer>
  );
}
