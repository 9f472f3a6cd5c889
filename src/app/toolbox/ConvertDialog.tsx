/**
 * "Convert": a raw disk image into VHDX; the open image (through its chain) out to raw; the open
 * image compacted into a new VHDX; the open differencing image merged into its parent.
 */
import { useEffect, useState } from "react";
import { Dialog } from "../components/Dialog";
import { ensurePermission } from "../engine/client";
import { formatSize } from "../lib/format";
import { engineClient } from "../store/engineConnection";
import { useApp } from "../store/store";
import { JobStatus, OutputFields, ParentPicker } from "./JobParts";
import { safeName, useJob } from "./jobStore";
import { useOutputName } from "./outputName";
import { can, pickFiles, RAW_TYPES } from "./pickers";
import { MiB } from "./sizeInput";
import { keptChainNames, VhdSourceFields, type VhdSource } from "./VhdSourceFields";

const MODES = [
  { id: "raw-to-vhdx", label: "Raw → VHDX" },
  { id: "to-raw", label: "Open image → raw" },
  { id: "vhd-to-vhdx", label: "VHD → VHDX" },
  { id: "to-vhd", label: "Open image → VHD" },
  { id: "compact", label: "Compact" },
  { id: "merge", label: "Merge into parent" },
] as const;
type Mode = (typeof MODES)[number]["id"];

export function ConvertDialog() {
  const { dialog, hide, job, run, output } = useJob();
  const info = useApp((s) => s.info);
  const fileName = useApp((s) => s.fileName);
  const [mode, setMode] = useState<Mode>("raw-to-vhdx");
  const [raw, setRaw] = useState<FileSystemFileHandle | File | null>(null);
  const [type, setType] = useState<"dynamic" | "fixed">("dynamic");
  const [blockSize, setBlockSize] = useState(8 * MiB);
  const [parent, setParent] = useState<FileSystemFileHandle | null>(null);
  const [vhd, setVhd] = useState<VhdSource | null>(null);
  const [keepChain, setKeepChain] = useState(false);
  const [subformat, setSubformat] = useState<"dynamic" | "fixed">("dynamic");
  // The parent attached to the open child (picked or found in a granted folder) is the one merged into.
  const [attached, setAttached] = useState<FileSystemFileHandle | null>(null);
  const running = job.phase === "running";
  const done = mode === "merge" && job.phase === "done" && job.title === "Merge";
  const differencing = info?.diskType === "differencing";
  useEffect(() => {
    if (mode !== "merge" || !differencing || done) return;
    let live = true;
    void engineClient()
      ?.attachedParent()
      .then((h) => {
        if (!live) return;
        setAttached(h);
        setParent((p) => p ?? h);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [mode, differencing, done, fileName]);
  const outFormat = mode === "to-raw" ? "raw" : mode === "to-vhd" ? "vhd" : "vhdx";
  const out = useOutputName("converted", outFormat, `${dialog}/${job.phase}/${fileName}`);

  const keeping = mode === "vhd-to-vhdx" && keepChain && vhd?.info.diskType === "differencing";
  const why: string | null =
    mode === "raw-to-vhdx"
      ? raw
        ? null
        : "choose a raw disk image"
      : mode === "vhd-to-vhdx"
        ? !vhd
          ? "choose a VHD file"
          : vhd.info.diskType === "differencing" && !vhd.chain
            ? "choose the parent of the differencing VHD"
            : keeping && out.dest !== "opfs"
              ? "write a kept chain to browser storage (its files are named after one another)"
              : null
        : mode === "to-vhd" && info && info.virtualSize > 2040 * 1024 * MiB
          ? "use a disk of at most 2040 GiB (the VHD format's limit)"
          : !info
            ? "open an image first"
            : mode === "merge" && info.diskType !== "differencing"
              ? `open a differencing image (${fileName ?? "the open image"} is a ${info.diskType} image, with no parent to merge into)`
              : mode === "merge" && !parent
                ? "choose the parent file (it was attached without write access)"
                : null;
  const nameProblem = mode === "merge" ? null : out.problem;

  const start = async () => {
    const client = engineClient();
    if (!client) return;
    if (mode === "merge") {
      if (!parent || (await ensurePermission(parent, "readwrite")) !== "granted") return;
      await run("Merge", "vhdx", (signal, onProgress) => client.call("mergeOpen", [parent], { signal, onProgress }));
      return;
    }
    const target = await output(out, outFormat);
    if (!target) return;
    if (mode === "vhd-to-vhdx" && vhd) {
      const { file, parents } = vhd;
      if (keeping && parents) {
        await run("Convert", "vhdx", (signal, onProgress) =>
          client.call("convertVhdKeepChain", [file, parents, { type }, target], { signal, onProgress }),
        );
        return;
      }
      await run("Convert", "vhdx", (signal, onProgress) =>
        client.call("convertVhd", [file, { type, blockSize }, target, parents], { signal, onProgress }),
      );
      return;
    }
    if (mode === "to-vhd") {
      await run("Convert", "vhd", (signal, onProgress) =>
        client.call("convertOpenToVhd", [subformat, target], { signal, onProgress }),
      );
      return;
    }
    if (mode === "raw-to-vhdx" && raw) {
      const src = raw instanceof File ? { kind: "file" as const, file: raw } : { kind: "handle" as const, handle: raw };
      await run("Convert", "vhdx", (signal, onProgress) =>
        client.call("convertRaw", [src, { type, blockSize }, target], { signal, onProgress }),
      );
    } else if (mode === "to-raw") {
      await run("Convert", "raw", (signal, onProgress) =>
        client.call("convertOpenToRaw", [target], { signal, onProgress }),
      );
    } else if (mode === "compact") {
      await run("Compact", "vhdx", (signal, onProgress) =>
        client.call("compact", [{ type: "dynamic" }, target], { signal, onProgress }),
      );
    }
  };

  return (
    <Dialog title="Convert" open={dialog === "convert"} onClose={hide}>
      <div className="dialog-body">
        <form
          className="tool-form"
          aria-label="Convert"
          onSubmit={(e) => {
            e.preventDefault();
            if (!why && !nameProblem && !running) void start();
          }}
        >
          <span id="cv-mode">Operation</span>
          <div className="segmented" role="radiogroup" aria-labelledby="cv-mode">
            {MODES.map((m) => (
              <button key={m.id} type="button" role="radio" aria-checked={mode === m.id} onClick={() => setMode(m.id)}>
                {m.label}
              </button>
            ))}
          </div>
          {mode === "raw-to-vhdx" && (
            <>
              <span>Raw image</span>
              <span className="row-actions">
                {can.open() ? (
                  <button
                    type="button"
                    onClick={async () => {
                      const h = await pickFiles(RAW_TYPES);
                      if (h?.[0]) setRaw(h[0]);
                    }}
                  >
                    Choose raw image…
                  </button>
                ) : (
                  <input
                    type="file"
                    accept=".img,.raw,.bin"
                    aria-label="Raw image file"
                    onChange={(e) => setRaw(e.target.files?.[0] ?? null)}
                  />
                )}
                <span aria-label="Chosen raw image">{raw ? raw.name : <span className="muted">none chosen</span>}</span>
              </span>
              <span id="cv-type">VHDX type</span>
              <div className="segmented" role="radiogroup" aria-labelledby="cv-type">
                {(["dynamic", "fixed"] as const).map((t) => (
                  <button key={t} type="button" role="radio" aria-checked={type === t} onClick={() => setType(t)}>
                    {t}
                  </button>
                ))}
              </div>
              <label htmlFor="cv-block">Block size</label>
              <select id="cv-block" value={blockSize} onChange={(e) => setBlockSize(Number(e.target.value))}>
                {[1, 2, 4, 8, 16, 32, 64, 128, 256].map((n) => (
                  <option key={n} value={n * MiB}>
                    {n} MiB
                  </option>
                ))}
              </select>
            </>
          )}
          {mode === "vhd-to-vhdx" && (
            <>
              <VhdSourceFields source={vhd} setSource={setVhd} keepChain={keepChain} setKeepChain={setKeepChain} />
              <span id="cv-vtype">VHDX type</span>
              <div className="segmented" role="radiogroup" aria-labelledby="cv-vtype">
                {(["dynamic", "fixed"] as const).map((t) => (
                  <button key={t} type="button" role="radio" aria-checked={type === t} onClick={() => setType(t)}>
                    {t}
                  </button>
                ))}
              </div>
              {keeping && vhd?.chain && (
                <span className="hint" aria-label="Chain outputs">
                  Written, base first: {keptChainNames(safeName(out.name, ".vhdx"), vhd.chain).join(", ")}.
                </span>
              )}
            </>
          )}
          {mode === "to-vhd" && (
            <>
              <span id="cv-sub">VHD type</span>
              <div className="segmented" role="radiogroup" aria-labelledby="cv-sub">
                {(["dynamic", "fixed"] as const).map((t) => (
                  <button
                    key={t}
                    type="button"
                    role="radio"
                    aria-checked={subformat === t}
                    onClick={() => setSubformat(t)}
                  >
                    {t}
                  </button>
                ))}
              </div>
              <span className="hint">
                The open image{info ? ` (${formatSize(info.virtualSize)})` : ""} read through its parents, as a VHD of
                the same size with 2 MiB blocks; at most 2040 GiB.
              </span>
            </>
          )}
          {(mode === "to-raw" || mode === "compact") && (
            <>
              <span>Source</span>
              <span>
                {info ? (
                  <>
                    {fileName}: {info.diskType}, {formatSize(info.virtualSize)} virtual, file{" "}
                    {formatSize(info.fileSize)}
                    {info.diskType === "differencing" ? " — read through its parents" : ""}
                  </>
                ) : (
                  <span className="muted">no image open</span>
                )}
              </span>
              {mode === "compact" && (
                <span className="hint">A new dynamic VHDX without unreferenced space or all-zero blocks.</span>
              )}
            </>
          )}
          {mode === "merge" && (
            <>
              {done && info ? (
                <p role="status" aria-label="Now open" className="full">
                  Now open: <strong>{fileName}</strong>, the merged parent — a {info.diskType} image of{" "}
                  {formatSize(info.virtualSize)}
                  {info.diskType === "differencing" ? ", itself a differencing image" : ""}.
                </p>
              ) : (
                <ParentPicker parent={parent} setParent={setParent} attached={!!parent && parent === attached} />
              )}
              <span className="hint">
                The child's sectors are written into the parent, which must carry the DataWriteGuid the child links to.
                {info?.readOnly
                  ? ` ${fileName ?? "The child"} is open read-only, so it is left as it is; it no longer links to the parent afterwards.`
                  : ` ${fileName ?? "The child"} is open for editing: it is told of the merge first, so it opens over its parent at every step, and no longer links to the parent afterwards.`}
              </span>
            </>
          )}
          {mode !== "merge" && <OutputFields out={out} idPrefix="cv" />}
          <div className="full">
            <JobStatus />
          </div>
          <div className="dialog-actions full">
            {done ? (
              <span className="spacer" />
            ) : why ? (
              <span className="muted spacer">To start, {why}.</span>
            ) : (
              nameProblem && <span className="muted spacer">{nameProblem}.</span>
            )}
            <button type="button" onClick={hide} disabled={running}>
              Close
            </button>
            <button type="submit" className="primary" disabled={!!why || !!nameProblem || running}>
              {mode === "merge" ? "Merge" : mode === "compact" ? "Compact" : "Convert"}
            </button>
          </div>
        </form>
      </div>
    </Dialog>
  );
}
