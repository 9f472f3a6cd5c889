/** The commands that read a VHD (v1): info, cat, check. Detected by the "conectix" cookie. */
import { NodeFileBackend } from "../node/fileBackend";
import { checkVhd } from "../vhd/check";
import { vhdInfo } from "../vhd/info";
import { detectFormat, openVhd } from "../vhd/open";
import { ParsedArgs, UsageError } from "./args";
import { catRange, openShared, printInfo, type Io } from "./commands";
import { formatSize, hexOffset, toJson } from "./format";

/** True when the file at `path` is a VHD (footer cookie at its end, or the copy at 0). */
export async function isVhdFile(path: string): Promise<boolean> {
  const probe = await NodeFileBackend.open(path, { readOnly: true });
  try {
    return (await detectFormat(probe)) === "vhd";
  } finally {
    await probe.close();
  }
}

export async function vhdInfoCommand(path: string, a: ParsedArgs, io: Io): Promise<number> {
  const img = await openShared(path, openVhd);
  try {
    const info = await vhdInfo(img);
    return printInfo(a, io, info, () => vhdInfoRows(info));
  } finally {
    await img.close();
  }
}

function vhdInfoRows(info: Awaited<ReturnType<typeof vhdInfo>>): string[][] {
  const f = info.footer;
  const g = f.geometry;
  const rows: string[][] = [
    ["format", "VHD (v1)"],
    ["disk type", info.diskType],
    ["virtual size", `${formatSize(info.virtualSize)} (${info.virtualSize} bytes)`],
    ["geometry", `${g.cylinders}/${g.heads}/${g.sectorsPerTrack} (C/H/S: ${g.bytes} bytes)`],
    ["unique id", f.uniqueId],
    ["file size", `${formatSize(info.fileSize)} (${info.fileSize} bytes)`],
    [
      "creator",
      `${JSON.stringify(f.creatorApplication)} ${f.creatorVersion >>> 16}.${f.creatorVersion & 0xffff} on ${JSON.stringify(f.creatorHostOs)}`,
    ],
    ["time stamp", f.timeStampIso],
    [
      "footer",
      `at ${hexOffset(f.offset)}${info.footerCopy ? `, copy at 0${info.footerCopy.matches ? "" : " (differs)"}` : ""}`,
    ],
  ];
  const h = info.dynamicHeader;
  if (h && info.bat) {
    rows.push(["block size", formatSize(h.blockSize)]);
    rows.push(["dynamic disk header", `at ${hexOffset(h.offset)}`]);
    rows.push([
      "BAT",
      `${info.bat.entries} entries at ${hexOffset(info.bat.offset)}, ${info.bat.allocated} blocks in the file`,
    ]);
  }
  if (h && info.diskType === "differencing") {
    rows.push(["parent unique id", h.parentUniqueId]);
    rows.push(["parent name", h.parentUnicodeName]);
    for (const l of h.locators) rows.push([`parent ${l.platformCode}`, l.value ?? `(${l.platformDataLength} bytes)`]);
  }
  return rows;
}

export async function vhdCatCommand(path: string, a: ParsedArgs, io: Io): Promise<number> {
  const [{ openVhdWithParents }, { closeVhdChain }] = await Promise.all([
    import("../node/resolveVhdParent"),
    import("../vhd/chain"),
  ]);
  const { image: img, chain } = await openVhdWithParents(path, { lock: true });
  try {
    const { offset, length } = catRange(a, img.virtualSize);
    for await (const piece of img.segments(offset, length)) await io.outBytes(piece);
    return 0;
  } finally {
    await closeVhdChain(chain);
  }
}

export async function vhdCheckCommand(path: string, a: ParsedArgs, io: Io): Promise<number> {
  if (a.flags.has("repair")) throw new UsageError("--repair applies to VHDX images; a VHD is only reported on");
  const file = await openShared(path, async (f) => f);
  try {
    const report = await checkVhd(file);
    if (a.flags.has("json")) io.out(toJson(report) + "\n");
    else {
      const { formatReport } = await import("./cmd-check");
      io.out(formatReport(path, report));
    }
    return report.ok ? 0 : 1;
  } finally {
    await file.close();
  }
}
