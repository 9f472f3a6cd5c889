/**
 * The differencing chain: the parent locator's paths (§2.6.2.6.3), choosing the parent (a file,
 * or a folder granted once where relative_path is resolved), the identity check's verdict, and
 * each image of the chain with its type, size, GUIDs and share of allocated blocks.
 */
import { useEffect } from "react";
import { Dialog } from "../components/Dialog";
import { formatSize } from "../lib/format";
import { useApp } from "../store/store";
import { useChain, type ChainView } from "./chainStore";
import { useJob } from "./jobStore";
import { can, pickDirectory, pickFiles, VHDX_TYPES } from "./pickers";

function ChainTable({ chain }: { chain: ChainView }) {
  return (
    <table className="data chain-table" aria-label="Chain">
      <thead>
        <tr>
          <th>Level</th>
          <th>Image</th>
          <th>Type</th>
          <th>Virtual size</th>
          <th>File size</th>
          <th>Block size</th>
          <th>DataWriteGuid</th>
          <th>Links to (parent_linkage)</th>
          <th>Allocated blocks</th>
        </tr>
      </thead>
      <tbody>
        {chain.images.map((img, i) => {
          const share = img.totalBlocks ? img.allocatedBlocks / img.totalBlocks : 0;
          return (
            <tr key={i}>
              <td>{i === 0 ? "open image" : i === chain.images.length - 1 ? "base" : `parent ${i}`}</td>
              <td>{img.name}</td>
              <td>{img.type}</td>
              <td>{formatSize(img.virtualSize)}</td>
              <td>{formatSize(img.fileSize)}</td>
              <td>{formatSize(img.blockSize)}</td>
              <td>
                <code>{img.dataWriteGuid}</code>
              </td>
              <td>
                {img.parentLinkage ? (
                  <code>{img.parentLinkage.replace(/[{}]/g, "")}</code>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>
                <span className="share" aria-label={`${img.allocatedBlocks} of ${img.totalBlocks} blocks allocated`}>
                  <span className="share-bar">
                    <span style={{ width: `${(100 * share).toFixed(1)}%` }} />
                  </span>
                  {img.allocatedBlocks} / {img.totalBlocks}
                  {img.partialBlocks ? ` (${img.partialBlocks} partial)` : ""}
                </span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function ChainDialog() {
  const { dialog, show, hide } = useJob();
  const { locator, chain, busy, error, mismatch, load, attach, openWithoutParent, reset } = useChain();
  const info = useApp((s) => s.info);
  const fileName = useApp((s) => s.fileName);
  const differencing = info?.diskType === "differencing";

  // A differencing image asks for its parent as soon as it opens: nothing reads through it before.
  const status = useApp((s) => s.status);
  useEffect(() => {
    if (status !== "ready") return;
    reset();
    if (!differencing) return;
    void load().then(() => {
      const a = useApp.getState();
      const l = useChain.getState().locator;
      if (a.status === "ready" && a.info?.diskType === "differencing" && l && !l.attached) show("chain");
    });
  }, [fileName, status, differencing, load, reset, show]);

  return (
    <Dialog title="Differencing chain" open={dialog === "chain"} onClose={hide}>
      <div className="dialog-body wide">
        {locator && (
          <>
            <h3 className="section-title">Parent locator</h3>
            <table className="data compact" aria-label="Parent locator paths">
              <tbody>
                {locator.paths.map((p) => (
                  <tr key={p.key}>
                    <th scope="row">{p.key}</th>
                    <td>
                      <code>{p.value}</code>
                    </td>
                  </tr>
                ))}
                <tr>
                  <th scope="row">parent_linkage</th>
                  <td>
                    <code>{locator.linkage.join(" or ") || "—"}</code>
                  </td>
                </tr>
              </tbody>
            </table>
          </>
        )}
        {!chain && locator && (
          <p>
            This image stores only the sectors that differ from its parent. Choose the parent file, or grant the folder
            that holds it and <code>relative_path</code> is followed inside it. The parent's DataWriteGuid is checked
            against <code>parent_linkage</code> before anything is read through it.
          </p>
        )}
        {error && (
          <div role="alert" className="danger blocked">
            <span>{error}</span>
            {mismatch && (
              <button type="button" onClick={() => void attach(mismatch, true)}>
                Open read-only anyway
              </button>
            )}
          </div>
        )}
        {chain && (
          <>
            <h3 className="section-title">Chain</h3>
            <ChainTable chain={chain} />
            {chain.warnings.map((w, i) => (
              <p key={i} className="warn-text">
                {w}
              </p>
            ))}
          </>
        )}
      </div>
      <div className="dialog-actions">
        {!chain && (
          <>
            <button
              type="button"
              disabled={busy || !can.directory()}
              onClick={async () => {
                const d = await pickDirectory();
                if (d) await attach({ kind: "directory", directory: d });
              }}
            >
              Grant folder…
            </button>
            <button
              type="button"
              className="primary"
              disabled={busy || !can.open()}
              onClick={async () => {
                const files = await pickFiles(VHDX_TYPES, true);
                if (files?.length)
                  await attach({ kind: "files", files: files.map((handle) => ({ kind: "handle", handle })) });
              }}
            >
              Choose parent…
            </button>
          </>
        )}
        {chain ? (
          <button type="button" onClick={hide} className="primary">
            Close
          </button>
        ) : (
          // The views stay hidden until a parent is verified or this is chosen (issue 9).
          !mismatch && (
            <button
              type="button"
              disabled={busy}
              onClick={async () => {
                await openWithoutParent();
                hide();
              }}
            >
              Open read-only anyway
            </button>
          )
        )}
      </div>
    </Dialog>
  );
}
