/**
 * A differencing VHD's parent: which file it needs (the locators' names, the Parent Unique Id) and
 * what cannot be read without it, then the pickers that attach it (as a VHDX's parents are
 * attached, worker/vhdChain.ts), and once attached the chain the views read through.
 */
import { useState } from "react";
import type { VhdInfo } from "../../vhd/info";
import type { VhdChainView } from "../../worker/vhdChain";
import { formatSize } from "../lib/format";
import { engineClient } from "../store/engineConnection";
import { can, pickDirectory, pickFiles, VHD_TYPES } from "../toolbox/pickers";
import type { ParentSource } from "../../worker/chain";

export function VhdParentPanel({ info, onAttached }: { info: VhdInfo; onAttached: () => void }) {
  const [chain, setChain] = useState<VhdChainView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const h = info.dynamicHeader;
  if (!h) return null;
  const names = [
    ...new Set([...h.locators.flatMap((l) => (l.value ? [l.value] : [])), h.parentUnicodeName].filter(Boolean)),
  ];

  const attach = async (source: ParentSource) => {
    const client = engineClient();
    if (!client) return;
    setBusy(true);
    setError(null);
    try {
      setChain(await client.call("vhdAttachParents", [source]));
      onAttached();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  if (chain)
    return (
      <div className="banner" role="status" aria-label="VHD parent">
        Parent attached: the views read through {chain.links.length} disks —{" "}
        {chain.links.map((l, i) => (
          <span key={i}>
            {i > 0 && " → "}
            <strong>{l.name}</strong> ({l.diskType}, {formatSize(l.virtualSize)}, unique id <code>{l.uniqueId}</code>)
          </span>
        ))}
        .
        {chain.warnings.map((w, i) => (
          <div key={i} className="warn">
            PARENT_MISMATCH: {w}
          </div>
        ))}
      </div>
    );
  return (
    <div className="banner warn" role="region" aria-label="VHD parent">
      <p aria-label="Parent needed">
        This differencing disk needs its parent: <strong>{names.join(", ") || "(no name recorded)"}</strong>, unique id{" "}
        <code>{h.parentUniqueId}</code>. Until it is attached, the sectors this file does not hold cannot be read: the
        Hex view&apos;s virtual disk and the Files view fail there with PARENT_NOT_FOUND; the raw file, the Footer,
        Dynamic header, BAT and Parent locators views work.
      </p>
      <button
        type="button"
        className="primary"
        disabled={busy || !can.open()}
        onClick={async () => {
          const files = await pickFiles(VHD_TYPES, true);
          if (files?.length)
            await attach({ kind: "files", files: files.map((handle) => ({ kind: "handle", handle })) });
        }}
      >
        Attach parent…
      </button>{" "}
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
      {error && (
        <p role="alert" className="danger">
          {error}
        </p>
      )}
    </div>
  );
}
