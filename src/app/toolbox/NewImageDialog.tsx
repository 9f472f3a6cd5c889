/**
 * "New image": fixed, dynamic or differencing (on a parent the user picks), with the size, block
 * size, sector sizes and log size; the spec's limits are checked as the user types.
 */
import { useRef, useState } from "react";
import { Dialog } from "../components/Dialog";
import { engineClient } from "../store/engineConnection";
import { JobStatus, OutputFields, ParentPicker } from "./JobParts";
import { useJob } from "./jobStore";
import { useOutputName } from "./outputName";
import { MiB, newImageProblems, parseSize, type NewImageFields } from "./sizeInput";

const BLOCK_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256].map((n) => n * MiB);
const LOG_SIZES = [1, 2, 4, 8, 16, 32, 64].map((n) => n * MiB);
const TYPES = ["dynamic", "fixed", "differencing"] as const;

function Select({
  id,
  label,
  value,
  options,
  onChange,
  disabled,
  format,
}: {
  id: string;
  label: string;
  value: number;
  options: number[];
  onChange: (v: number) => void;
  disabled?: boolean;
  format: (v: number) => string;
}) {
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} onChange={(e) => onChange(Number(e.target.value))}>
        {options.map((o) => (
          <option key={o} value={o}>
            {format(o)}
          </option>
        ))}
      </select>
    </>
  );
}

export function NewImageDialog() {
  const { dialog, hide, job, run, output } = useJob();
  const [f, setF] = useState<NewImageFields>({
    type: "dynamic",
    size: "64G",
    blockSize: 32 * MiB,
    logicalSectorSize: 512,
    physicalSectorSize: 4096,
    logSize: MiB,
  });
  const [parent, setParent] = useState<FileSystemFileHandle | null>(null);
  const out = useOutputName("new.vhdx", "vhdx", `${dialog}/${job.phase}`);
  const problems = newImageProblems(f);
  const diff = f.type === "differencing";
  const blocked =
    Object.keys(problems).length > 0 || (diff && !parent) || job.phase === "running" || out.problem !== null;
  const set = <K extends keyof NewImageFields>(k: K, v: NewImageFields[K]) => setF({ ...f, [k]: v });
  // A child takes its parent's block size unless asked otherwise (0: the parent's), so their blocks align.
  const lastBlock = useRef(f.blockSize);
  if (f.blockSize) lastBlock.current = f.blockSize;
  const setType = (type: NewImageFields["type"]) =>
    setF({ ...f, type, blockSize: type === "differencing" ? 0 : f.blockSize || lastBlock.current });
  const mib = (v: number) => (v === 0 ? "same as the parent" : `${v / MiB} MiB`);
  const bytes = (v: number) => `${v} bytes`;

  const create = async () => {
    const client = engineClient();
    const target = await output(out, "vhdx");
    if (!client || !target) return;
    await run("New image", "vhdx", (signal, onProgress) =>
      client.call(
        "createNew",
        [
          {
            type: f.type,
            virtualSize: diff ? undefined : parseSize(f.size)!,
            blockSize: f.blockSize || undefined,
            logicalSectorSize: diff ? undefined : f.logicalSectorSize,
            physicalSectorSize: diff ? undefined : f.physicalSectorSize,
            logSize: f.logSize,
            parent: diff && parent ? { kind: "handle", handle: parent } : undefined,
          },
          target,
        ],
        { signal, onProgress },
      ),
    );
  };

  return (
    <Dialog title="New image" open={dialog === "new"} onClose={hide}>
      <div className="dialog-body">
        <form
          className="tool-form"
          aria-label="New image"
          onSubmit={(e) => {
            e.preventDefault();
            if (!blocked) void create();
          }}
        >
          <span id="ni-type">Type</span>
          <div className="segmented" role="radiogroup" aria-labelledby="ni-type">
            {TYPES.map((t) => (
              <button key={t} type="button" role="radio" aria-checked={f.type === t} onClick={() => setType(t)}>
                {t}
              </button>
            ))}
          </div>
          {diff ? (
            <>
              <ParentPicker parent={parent} setParent={setParent} />
              <span className="hint">
                The child takes its parent's size and sector sizes; its locator names the parent as .\
                {parent?.name ?? "parent.vhdx"}.
              </span>
            </>
          ) : (
            <>
              <label htmlFor="ni-size">Virtual size</label>
              <input
                id="ni-size"
                type="text"
                value={f.size}
                aria-invalid={!!problems.size}
                aria-describedby="ni-size-err"
                onChange={(e) => set("size", e.target.value)}
              />
              {problems.size && (
                <span id="ni-size-err" className="field-error">
                  Must be {problems.size}
                </span>
              )}
            </>
          )}
          <Select
            id="ni-block"
            label="Block size"
            value={f.blockSize}
            options={diff ? [0, ...BLOCK_SIZES] : BLOCK_SIZES}
            onChange={(v) => set("blockSize", v)}
            format={mib}
          />
          <Select
            id="ni-lss"
            label="Logical sector size"
            value={f.logicalSectorSize}
            options={[512, 4096]}
            disabled={diff}
            onChange={(v) => set("logicalSectorSize", v)}
            format={bytes}
          />
          <Select
            id="ni-pss"
            label="Physical sector size"
            value={f.physicalSectorSize}
            options={[512, 4096]}
            disabled={diff}
            onChange={(v) => set("physicalSectorSize", v)}
            format={bytes}
          />
          <Select
            id="ni-log"
            label="Log size"
            value={f.logSize}
            options={LOG_SIZES}
            onChange={(v) => set("logSize", v)}
            format={mib}
          />
          <OutputFields out={out} idPrefix="ni" />
          <div className="full">
            <JobStatus />
          </div>
          <div className="dialog-actions full">
            {out.problem && <span className="muted spacer">{out.problem}.</span>}
            <button type="button" onClick={hide} disabled={job.phase === "running"}>
              Close
            </button>
            <button type="submit" className="primary" disabled={blocked}>
              Create
            </button>
          </div>
        </form>
      </div>
    </Dialog>
  );
}
