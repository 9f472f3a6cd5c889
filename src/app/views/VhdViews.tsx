/**
 * A VHD (v1) disk open in the editor, read-only: its footer (and the copy at 0), dynamic disk
 * header, a BAT picture and its parent locators, from the worker's `vhdInfo` and `vhdBat` — the
 * same fields `vhdx info --json` prints — in place of the VHDX-only tabs; the Hex and Files views
 * read it through the worker like a VHDX.
 */
import { useEffect, useRef, useState, type ReactNode } from "react";
import type { VhdInfo } from "../../vhd/info";
import { engineClient } from "../store/engineConnection";
import { DARK_PALETTE, LIGHT_PALETTE, hexColor } from "../lib/batPixels";
import { formatSize, hex } from "../lib/format";
import { useJob } from "../toolbox/jobStore";
import { FilesView } from "../files/FilesView";
import { VhdHexView } from "./VhdHexView";
import { VhdParentPanel } from "./VhdParentPanel";

const VHD_TABS = ["Footer", "Dynamic header", "BAT", "Parent locators", "Hex", "Files"] as const;
type VhdTab = (typeof VHD_TABS)[number];
/** The footer's Disk Type values the format defines. */
const DISK_TYPES: Record<number, string> = { 2: "fixed", 3: "dynamic", 4: "differencing" };

function Rows({ label, rows }: { label: string; rows: [string, ReactNode][] }) {
  return (
    <table className="kv" aria-label={label}>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function footerRows(f: VhdInfo["footer"], checksumOk: string): [string, ReactNode][] {
  return [
    ["Offset", hex(f.offset)],
    ["Cookie", f.cookie],
    ["Features", hex(f.features)],
    ["File Format Version", hex(f.fileFormatVersion)],
    ["Data Offset", f.dataOffset < 0 ? "none" : hex(f.dataOffset)],
    ["Time Stamp", `${f.timeStamp} (${f.timeStampIso})`],
    ["Creator Application", f.creatorApplication],
    ["Creator Version", hex(f.creatorVersion)],
    ["Creator Host OS", f.creatorHostOs],
    ["Original Size", `${f.originalSize} (${formatSize(f.originalSize)})`],
    ["Current Size", `${f.currentSize} (${formatSize(f.currentSize)})`],
    [
      "Disk Geometry",
      `C ${f.geometry.cylinders} / H ${f.geometry.heads} / S ${f.geometry.sectorsPerTrack} (${f.geometry.bytes} bytes)`,
    ],
    ["Disk Type", `${f.diskType} (${DISK_TYPES[f.diskType] ?? "not a VHD disk type"})`],
    ["Checksum", `${hex(f.checksum)} — ${checksumOk}`],
    ["Unique Id", f.uniqueId],
    ["Saved State", `${f.savedState}`],
  ];
}

function FooterView({ info }: { info: VhdInfo }) {
  // A footer that failed its checksum is refused when opening; the one shown was verified.
  return (
    <div className="view">
      <h3>Footer</h3>
      <Rows label="Footer" rows={footerRows(info.footer, "valid")} />
      <h3>Footer copy at offset 0</h3>
      {info.footerCopy ? (
        <>
          <p aria-label="Footer copy verdict">
            {info.footerCopy.matches ? "Identical to the footer." : "Differs from the footer."}
          </p>
          <Rows label="Footer copy" rows={footerRows(info.footerCopy, "valid")} />
        </>
      ) : (
        <p>{info.diskType === "fixed" ? "A fixed disk has no copy." : "No valid copy at offset 0."}</p>
      )}
    </div>
  );
}

function HeaderView({ info }: { info: VhdInfo }) {
  const h = info.dynamicHeader;
  if (!h) return <p className="view">A fixed disk has no dynamic disk header.</p>;
  return (
    <div className="view">
      <Rows
        label="Dynamic disk header"
        rows={[
          ["Offset", hex(h.offset)],
          ["Table Offset", hex(h.tableOffset)],
          ["Header Version", hex(h.headerVersion)],
          ["Max Table Entries", `${h.maxTableEntries}`],
          ["Block Size", `${h.blockSize} (${formatSize(h.blockSize)})`],
          ["Checksum", `${hex(h.checksum)} — valid`],
          ["Parent Unique Id", h.parentUniqueId],
          ["Parent Time Stamp", `${h.parentTimeStamp} (${h.parentTimeStampIso})`],
          ["Parent Unicode Name", h.parentUnicodeName || "—"],
        ]}
      />
    </div>
  );
}

function VhdBatView({ info, themeKey }: { info: VhdInfo; themeKey: string }) {
  const [entries, setEntries] = useState<Uint32Array | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    void engineClient()
      ?.call("vhdBat", [])
      .then((e) => setEntries(e));
  }, [info]);
  const cols = 64;
  const cell = 8;
  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext("2d");
    if (!c || !ctx || !entries) return;
    const pal = themeKey === "dark" ? DARK_PALETTE : LIGHT_PALETTE;
    for (let i = 0; i < entries.length; i++) {
      ctx.fillStyle = hexColor(entries[i] === 0xffffffff ? pal.payload[0] : pal.payload[6]);
      ctx.fillRect((i % cols) * cell, Math.floor(i / cols) * cell, cell - 1, cell - 1);
    }
  }, [entries, themeKey]);
  if (!info.bat) return <p className="view">A fixed disk has no BAT: its data lies in order before the footer.</p>;
  const allocated = entries ? [...entries].flatMap((e, i) => (e === 0xffffffff ? [] : [[i, e]])) : [];
  return (
    <div className="view">
      <p aria-label="BAT summary">
        {info.bat.entries} entries at {hex(info.bat.offset)}, {info.bat.allocated} allocated; blocks of{" "}
        {formatSize(info.blockSize)}, sector bitmap {info.bat.sectorBitmapSize} bytes
      </p>
      <canvas
        ref={canvas}
        role="img"
        aria-label={`BAT: ${info.bat.allocated} of ${info.bat.entries} blocks allocated`}
        width={cols * cell}
        height={Math.max(1, Math.ceil(info.bat.entries / cols)) * cell}
      />
      <table className="kv" aria-label="Allocated blocks">
        <thead>
          <tr>
            <th>Block</th>
            <th>Sector</th>
            <th>File offset</th>
          </tr>
        </thead>
        <tbody>
          {allocated.slice(0, 1000).map(([i, e]) => (
            <tr key={i}>
              <td>{i}</td>
              <td>{e}</td>
              <td>{hex(e * 512)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LocatorsView({ info }: { info: VhdInfo }) {
  const ls = info.dynamicHeader?.locators ?? [];
  if (ls.length === 0)
    return (
      <p className="view">No parent locators{info.diskType === "differencing" ? "." : " (not a differencing disk)."}</p>
    );
  return (
    <table className="kv view" aria-label="Parent locators">
      <thead>
        <tr>
          <th>Entry</th>
          <th>Platform Code</th>
          <th>Data Space</th>
          <th>Data Length</th>
          <th>Data Offset</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {ls.map((l) => (
          <tr key={l.index}>
            <td>{l.index}</td>
            <td>{l.platformCode}</td>
            <td>{l.platformDataSpace}</td>
            <td>{l.platformDataLength}</td>
            <td>{hex(l.platformDataOffset)}</td>
            <td>{l.value ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function VhdViews({ info, themeKey }: { info: VhdInfo; themeKey: string }) {
  const [tab, setTab] = useState<VhdTab>("Footer");
  // Bumped when parents are attached: the hex and Files views read the chain from then on.
  const [chainKey, setChainKey] = useState(0);
  const show = useJob((s) => s.show);
  const views: Record<VhdTab, () => ReactNode> = {
    Footer: () => <FooterView info={info} />,
    "Dynamic header": () => <HeaderView info={info} />,
    BAT: () => <VhdBatView info={info} themeKey={themeKey} />,
    "Parent locators": () => <LocatorsView info={info} />,
    Hex: () => <VhdHexView info={info} chainKey={chainKey} />,
    Files: () => <FilesView key={chainKey} />,
  };
  return (
    <>
      <div className="banner" role="status" aria-label="VHD read-only">
        {info.diskType} VHD, {formatSize(info.virtualSize)} — read-only: VHD (v1) disks are opened read-only here;
        convert it to VHDX to edit it.{" "}
        <button type="button" onClick={() => show("convert")}>
          Convert to VHDX…
        </button>
        {info.warnings.map((w, i) => (
          <div key={i} className="warn">
            {w.code}: {w.message}
          </div>
        ))}
      </div>
      {info.diskType === "differencing" && <VhdParentPanel info={info} onAttached={() => setChainKey((k) => k + 1)} />}
      <div role="tablist" aria-label="VHD views" className="tabs">
        {VHD_TABS.map((t) => (
          <button key={t} type="button" role="tab" aria-selected={t === tab} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </div>
      <section role="tabpanel" aria-label={tab} className="panel">
        {views[tab]()}
      </section>
    </>
  );
}
