/** Go to for the hex view: the targets it knows (structures, partitions) and Ctrl+G to reach its field. */
import { useEffect, useMemo, useState } from "react";
import type { PartitionArea } from "../../fs/partitions/volumes";
import {
  fileStructureTargets,
  parseGoto,
  partitionTargets,
  type GotoResult,
  type NamedTarget,
} from "../lib/gotoTarget";
import type { ByteSpace, ImageInfo } from "../store/engineApi";
import { engineClient } from "../store/engineConnection";

/** The partitions of the decoded partition area: GPT entries, else MBR slots (a protective 0xEE entry left out). */
function partitionsOf(t: PartitionArea, sectorSize: number): { number: number; name?: string; offset: number }[] {
  if (t.gpt && t.gpt.partitions.length > 0)
    return t.gpt.partitions.map((p) => ({
      number: p.index + 1,
      name: p.name || undefined,
      offset: p.firstLba * sectorSize,
    }));
  if (t.mbr)
    return t.mbr.partitions
      .filter((p) => p.type !== 0xee && p.firstLba > 0)
      .map((p) => ({ number: p.slot + 1, offset: p.firstLba * sectorSize }));
  return [];
}

/** What Go to needs of the open disk, VHDX or VHD: its sizes and the structures it can name. */
export interface GotoDisk {
  virtualSize: number;
  fileSize: number;
  logicalSectorSize: number;
  blockSize: number;
  /** Structures of the file ("bat", "header 1", "footer" …). */
  structures: readonly NamedTarget[];
}

export function useGoto(info: ImageInfo | null, space: ByteSpace, cursor: number) {
  const disk = useMemo(() => (info ? { ...info, structures: fileStructureTargets(info) } : null), [info]);
  return useGotoIn(disk, space, cursor);
}

/** Go to over any open disk; the partitions come from the worker's decoded partition area. */
export function useGotoIn(disk: GotoDisk | null, space: ByteSpace, cursor: number) {
  const [area, setArea] = useState<PartitionArea | null>(null);
  useEffect(() => {
    const client = engineClient();
    setArea(null);
    if (!disk || !client) return;
    let live = true;
    client.partitionArea().then(
      (t) => live && setArea(t),
      () => live && setArea(null),
    );
    return () => {
      live = false;
    };
  }, [disk]);

  const targets = useMemo(
    () =>
      disk ? [...disk.structures, ...(area ? partitionTargets(partitionsOf(area, disk.logicalSectorSize)) : [])] : [],
    [disk, area],
  );

  // Ctrl+G (Cmd+G) puts the caret in the Go to field, its text selected.
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "g") {
        const input = document.getElementById("goto-input") as HTMLInputElement | null;
        if (!input) return;
        e.preventDefault();
        input.focus();
        input.select();
      }
    };
    window.addEventListener("keydown", key);
    return () => window.removeEventListener("keydown", key);
  }, []);

  return (text: string): GotoResult =>
    disk
      ? parseGoto(text, {
          space,
          cursor,
          sizes: { virtual: disk.virtualSize, file: disk.fileSize },
          sectorSizes: { virtual: disk.logicalSectorSize, file: 4096 },
          blockSize: disk.blockSize,
          targets,
        })
      : { ok: false, error: "No image is open" };
}
