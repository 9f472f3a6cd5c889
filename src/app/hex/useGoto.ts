/** Go to for the hex view: the targets it knows (structures, partitions) and Ctrl+G to reach its field. */
import { useEffect, useMemo, useState } from "react";
import type { PartitionArea } from "../../fs/partitions/volumes";
import { fileStructureTargets, parseGoto, partitionTargets, type GotoResult } from "../lib/gotoTarget";
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

export function useGoto(info: ImageInfo | null, space: ByteSpace, cursor: number) {
  const [area, setArea] = useState<PartitionArea | null>(null);
  useEffect(() => {
    const client = engineClient();
    setArea(null);
    if (!info || !client) return;
    let live = true;
    client.partitionArea().then(
      (t) => live && setArea(t),
      () => live && setArea(null),
    );
    return () => {
      live = false;
    };
  }, [info]);

  const targets = useMemo(
    () =>
      info
        ? [...fileStructureTargets(info), ...(area ? partitionTargets(partitionsOf(area, info.logicalSectorSize)) : [])]
        : [],
    [info, area],
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
    info
      ? parseGoto(text, {
          space,
          cursor,
          sizes: { virtual: info.virtualSize, file: info.fileSize },
          sectorSizes: { virtual: info.logicalSectorSize, file: 4096 },
          blockSize: info.blockSize,
          targets,
        })
      : { ok: false, error: "No image is open" };
}
