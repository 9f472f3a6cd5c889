/**
 * The Convert dialog's VHD source: the picked VHD, and for a differencing one the parent it needs
 * (the locators' names, its Unique Id), the parent files picked (each checked against its child's
 * Parent Unique Id, as VhdParentPanel attaches them to an open VHD), and whether the chain is kept
 * as VHDX files or flattened into one.
 */
import { useState } from "react";
import type { VhdInfo } from "../../vhd/info";
import type { ParentSource } from "../../worker/chain";
import type { InputFile } from "../../worker/outputs";
import type { VhdChainView } from "../../worker/vhdChain";
import { formatSize } from "../lib/format";
import { engineClient } from "../store/engineConnection";
import { can, pickFiles, VHD_TYPES } from "./pickers";

export interface VhdSource {
  file: InputFile;
  name: string;
  info: VhdInfo;
  /** The parents given, once every one was found and checked. */
  parents: ParentSource | null;
  chain: VhdChainView | null;
}

/** The names a kept chain is written under, base first: the child's output name, each parent as its VHD with ".vhdx". */
export function keptChainNames(output: string, chain: VhdChainView): string[] {
  return chain.links
    .map((l, i) => (i === 0 ? output : (l.name.split("/").pop() ?? l.name).replace(/\.vhd$/i, "") + ".vhdx"))
    .reverse();
}

const inputOf = (f: FileSystemFileHandle | File): InputFile =>
  f instanceof File ? { kind: "file", file: f } : { kind: "handle", handle: f };

export function VhdSourceFields({
  source,
  setSource,
  keepChain,
  setKeepChain,
}: {
  source: VhdSource | null;
  setSource(s: VhdSource | null): void;
  keepChain: boolean;
  setKeepChain(k: boolean): void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const choose = async (f: FileSystemFileHandle | File | undefined) => {
    const client = engineClient();
    if (!f || !client) return;
    setError(null);
    setSource(null);
    try {
      const file = inputOf(f);
      setSource({ file, name: f.name, info: await client.call("vhdSourceInfo", [file]), parents: null, chain: null });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const attach = async (files: (FileSystemFileHandle | File)[]) => {
    const client = engineClient();
    if (!source || !client || files.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      const parents: ParentSource = { kind: "files", files: files.map(inputOf) };
      const chain = await client.call("vhdSourceParents", [source.file, parents]);
      setSource({ ...source, parents, chain });
    } catch (e) {
      setSource({ ...source, parents: null, chain: null });
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const h = source?.info.dynamicHeader;
  const differencing = source?.info.diskType === "differencing" && h;
  const names = h
    ? [...new Set([...h.locators.flatMap((l) => (l.value ? [l.value] : [])), h.parentUnicodeName].filter(Boolean))]
    : [];
  return (
    <>
      <span>VHD file</span>
      <span className="row-actions">
        {can.open() ? (
          <button
            type="button"
            onClick={async () => {
              const picked = await pickFiles(VHD_TYPES);
              await choose(picked?.[0]);
            }}
          >
            Choose VHD…
          </button>
        ) : (
          <input type="file" accept=".vhd" aria-label="VHD file" onChange={(e) => void choose(e.target.files?.[0])} />
        )}
        <span aria-label="Chosen VHD">{source ? source.name : <span className="muted">none chosen</span>}</span>
        {source && (
          <span aria-label="Disk type of the VHD" className="muted">
            {source.info.diskType}, {formatSize(source.info.virtualSize)}
          </span>
        )}
      </span>
      {differencing && (
        <div className="full" role="region" aria-label="VHD parent needed">
          {source.chain ? (
            <p role="status" aria-label="VHD chain">
              Read through {source.chain.links.length} disks:{" "}
              {source.chain.links.map((l, i) => (
                <span key={i}>
                  {i > 0 && " → "}
                  <strong>{l.name}</strong> ({l.diskType}, unique id <code>{l.uniqueId}</code>)
                </span>
              ))}
              .
              {source.chain.warnings.map((w, i) => (
                <span key={i} className="warn">
                  {" "}
                  PARENT_MISMATCH: {w}
                </span>
              ))}
            </p>
          ) : (
            <p aria-label="Parent needed">
              This differencing VHD needs its parent: <strong>{names.join(", ") || "(no name recorded)"}</strong>,
              unique id <code>{h.parentUniqueId}</code>. Choose the parent file (and its own parents, if it is
              differencing too).
            </p>
          )}
          {can.open() ? (
            <button
              type="button"
              disabled={busy}
              onClick={async () => {
                const picked = await pickFiles(VHD_TYPES, true);
                if (picked?.length) await attach(picked);
              }}
            >
              Choose parent…
            </button>
          ) : (
            <input
              type="file"
              accept=".vhd"
              multiple
              aria-label="Parent VHD files"
              onChange={(e) => void attach([...(e.target.files ?? [])])}
            />
          )}
          <label className="checkbox">
            <input type="checkbox" checked={keepChain} onChange={(e) => setKeepChain(e.target.checked)} />
            Keep as a differencing chain
          </label>
          <span className="hint">
            {keepChain
              ? "Every link becomes a VHDX in browser storage: the base as the type below, each child a differencing VHDX over its converted parent, holding only its own sectors."
              : "Flattened: one VHDX holding the disk read through the chain."}
          </span>
        </div>
      )}
      {error && (
        <p role="alert" className="danger full">
          {error}
        </p>
      )}
    </>
  );
}
