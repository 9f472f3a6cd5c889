/**
 * "Storage": the app's files in the origin's storage — toolbox outputs, working copies, anything
 * else kept there — with size, last change and whether each is open; Open, Download and Delete
 * (confirmed; refused for the open image and its parents), and the quota used and available.
 */
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { formatSize } from "../lib/format";
import { useStorage, type StorageListing, type StoredFile } from "./storageStore";

function Quota({ listing }: { listing: StorageListing }) {
  const { usage, quota, files } = listing;
  const kept = files.reduce((n, f) => n + Math.max(0, f.size), 0);
  if (usage === null || quota === null) {
    return <p>The browser does not say how much storage this site may use. Files listed: {formatSize(kept)}.</p>;
  }
  return (
    <div className="storage-quota">
      <meter
        aria-label="Browser storage used"
        min={0}
        max={quota}
        value={usage}
        low={quota * 0.7}
        high={quota * 0.9}
        optimum={0}
      />
      <span role="status" aria-label="Browser storage quota">
        {formatSize(usage)} used of {formatSize(quota)}; {formatSize(Math.max(0, quota - usage))} available. Files
        listed: {formatSize(kept)}.
      </span>
    </div>
  );
}

function stateOf(f: StoredFile): string {
  if (f.inUse) return f.inUse.replace(/^it is /, "");
  if (f.partial) return "unfinished output of a job that did not complete";
  return "—";
}

function Row({ f }: { f: StoredFile }) {
  const { openFile, download, askDelete } = useStorage();
  const name = f.path;
  return (
    <tr className={f.inUse ? "active" : undefined}>
      <td className="storage-name" title={name}>
        {name}
      </td>
      <td className="num" title={f.size >= 0 ? `${f.size.toLocaleString("en-US")} bytes` : undefined}>
        {f.size >= 0 ? formatSize(f.size) : "—"}
      </td>
      <td className="nowrap">{f.lastModified ? new Date(f.lastModified).toLocaleString() : "—"}</td>
      <td>{stateOf(f)}</td>
      <td className="nowrap">
        <span className="row-actions">
          <button
            type="button"
            aria-label={`Open ${name}`}
            disabled={f.partial || f.inUse !== null}
            title={f.inUse ? `Already ${stateOf(f)}` : undefined}
            onClick={() => void openFile(f)}
          >
            Open
          </button>
          <button type="button" aria-label={`Download ${name}`} disabled={f.partial} onClick={() => void download(f)}>
            Download
          </button>
          <button
            type="button"
            aria-label={`Delete ${name}`}
            aria-describedby={f.inUse ? `why-${name}` : undefined}
            disabled={f.inUse !== null}
            onClick={() => askDelete(f)}
          >
            Delete
          </button>
          {f.inUse && (
            <span id={`why-${name}`} className="visually-hidden">
              Cannot be deleted: {f.inUse}.
            </span>
          )}
        </span>
      </td>
    </tr>
  );
}

export function StorageDialog() {
  const { open, hide, listing, loading, note, confirming, askDelete, confirmDelete, refresh } = useStorage();
  const files = listing?.files ?? [];
  return (
    <>
      <Dialog title="Storage" open={open} onClose={hide}>
        <div className="dialog-body wide storage-panel">
          <p className="hint">
            Files this app keeps in the browser's storage for this site: toolbox outputs and working copies. They stay
            until deleted here (or the site's data is cleared).
          </p>
          {listing && <Quota listing={listing} />}
          {note && (
            <p role={note.kind === "error" ? "alert" : "status"} className={note.kind === "error" ? "danger" : ""}>
              {note.text}
            </p>
          )}
          <table className="data storage-files" aria-label="Files in browser storage" aria-busy={loading}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Size</th>
                <th scope="col">Last modified</th>
                <th scope="col">In use</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <Row key={f.path} f={f} />
              ))}
              {listing && files.length === 0 && (
                <tr>
                  <td colSpan={5} className="muted">
                    Nothing is kept in browser storage.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <div className="dialog-actions">
          <button type="button" onClick={() => void refresh()} disabled={loading}>
            Refresh
          </button>
          <button type="button" onClick={hide}>
            Close
          </button>
        </div>
      </Dialog>
      <ConfirmDialog
        title="Delete from browser storage"
        open={confirming !== null}
        confirmLabel="Delete"
        onConfirm={() => {
          if (confirming) void confirmDelete(confirming);
        }}
        onClose={() => askDelete(null)}
      >
        {confirming && (
          <p>
            Delete {confirming.path}
            {confirming.size >= 0 ? ` (${formatSize(confirming.size)})` : ""} from browser storage? It cannot be brought
            back.
          </p>
        )}
      </ConfirmDialog>
    </>
  );
}
