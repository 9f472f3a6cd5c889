/** libvhdi's reading of an image (vhdiinfo), an implementation independent of both QEMU and ours. */
import { requireTool } from "./tools";
import { runOk } from "./run";

export interface VhdiInfo {
  /** "VHDX (version 2)" for VHDX files. */
  format: string;
  formatVersion: string;
  /** Lower-cased: "fixed", "dynamic", "differential". */
  diskType: string;
  mediaSize: number;
  bytesPerSector: number;
  identifier: string;
  /** Every "key : value" line as printed, for fields not parsed above. */
  fields: Record<string, string>;
}

/** Parses vhdiinfo's text, e.g. "\tMedia size\t\t: 100 MiB (104857600 bytes)". */
export function parseVhdiinfo(text: string): VhdiInfo {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$/.exec(line);
    if (m) fields[m[1]] = m[2];
  }
  const need = (k: string): string => {
    const v = fields[k];
    if (v === undefined) throw new Error(`vhdiinfo output has no "${k}" line:\n${text}`);
    return v;
  };
  const media = /\((\d+) bytes\)/.exec(need("Media size")) ?? /^(\d+)/.exec(need("Media size"));
  const sector = /^(\d+)/.exec(need("Bytes per sector"));
  if (!media || !sector) throw new Error(`vhdiinfo output not understood:\n${text}`);
  return {
    format: fields["Format"] ?? "",
    formatVersion: fields["Format version"] ?? "",
    diskType: need("Disk type").toLowerCase(),
    mediaSize: Number(media[1]),
    bytesPerSector: Number(sector[1]),
    identifier: fields["Identifier"] ?? "",
    fields,
  };
}

export function vhdiinfo(path: string): VhdiInfo {
  return parseVhdiinfo(runOk(requireTool("vhdiinfo"), [path]).stdout);
}
