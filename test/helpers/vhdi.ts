/** libvhdi's reading of an image (vhdiinfo), an implementation independent of both QEMU and ours. */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
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

/**
 * The virtual disk of `image` as libvhdi reads it through its parent chain (vhdimount, over FUSE):
 * `links` is the chain's length (vhdimount numbers the disks from the base up, the image last).
 */
export async function vhdimountRead(image: string, links: number, mountPoint: string): Promise<Buffer> {
  mkdirSync(mountPoint, { recursive: true });
  // -v keeps vhdimount in the foreground; it serves until unmounted.
  const m = spawn(requireTool("vhdimount"), ["-v", image, mountPoint], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  m.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  try {
    const disk = `${mountPoint}/vhdi${links}`;
    const deadline = Date.now() + 20_000;
    while (spawnSync("test", ["-s", disk]).status !== 0) {
      if (m.exitCode !== null || Date.now() > deadline) throw new Error(`vhdimount did not mount: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return readFileSync(disk);
  } finally {
    spawnSync(requireTool("fusermount"), ["-u", mountPoint]);
    await new Promise((r) => (m.exitCode !== null ? r(null) : m.once("exit", r)));
  }
}
