/** The commands that read a VHD (v1): info, cat, check. Detected by the "conectix" cookie. */
import { NodeFileBackend } from "../node/fileBackend";
import { checkVhd } from "../vhd/check";
import { vhdInfo } from "../vhd/info";
import { detectFormat, openVhd } from "../vhd/open";
import { flagString, ParsedArgs, parseSize, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize, hexOffset, table, toJson } from "./format";

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
  const file = await NodeFileBackend.open(path, { readOnly: true, lock: "shared" });
  try {
    const img = await openVhd(file);
    const info = await vhdInfo(img);
    if (a.flags.has("json")) {
      io.out(toJson(info) + "\n");
      return 0;
    }
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
    io.out(table(rows) + "\n");
    for (const w of info.warnings) io.out(`warning: ${w.message}\n`);
    return 0;
  } finally {
    await file.close();
  }
}

export async function vhdCatCommand(path: string, a: ParsedArgs, io: Io): Promise<number> {
  const [{ openVhdWithParents }, { closeVhdChain }] = await Promise.all([
    import("../node/resolveVhdParent"),
    import("../vhd/chain"),
  ]);
  const { image: img, chain } = await openVhdWithParents(path, { lock: true });
  try {
    const offset = a.flags.has("offset") ? parseSize(flagString(a, "offset")!, "--offset") : 0;
    if (offset > img.virtualSize)
      throw new UsageError(`--offset ${offset} is past the end of the virtual disk (${img.virtualSize} bytes)`);
    const length = a.flags.has("length") ? parseSize(flagString(a, "length")!, "--length") : img.virtualSize - offset;
    if (offset + length > img.virtualSize)
      throw new UsageError(`--offset + --length runs past the end of the virtual disk (${img.virtualSize} bytes)`);
    for await (const piece of img.segments(offset, length)) await io.outBytes(piece);
    return 0;
  } finally {
    await closeVhdChain(chain);
  }
}

export async function vhdCheckCommand(path: string, a: ParsedArgs, io: Io): Promise<number> {
  if (a.flags.has("repair")) throw new UsageError("--repair applies to VHDX images; a VHD is only reported on");
  const file = await NodeFileBackend.open(path, { readOnly: true, lock: "shared" });
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
