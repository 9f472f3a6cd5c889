/**
 * The hex view's notes on the partition area (LBA 0–33): labelled byte ranges for the MBR and
 * the primary GPT. The decoding lives in the file-system layer (src/fs/partitions/) and reaches
 * the page through the worker's `partitionArea()`; this only words it.
 */
import type { PartitionArea } from "../../fs/partitions/volumes";

const hex2 = (b: number) => b.toString(16).padStart(2, "0");

export interface Annotation {
  start: number;
  length: number;
  label: string;
}

/** Labelled byte ranges for the hex view. */
export function partitionAnnotations(t: PartitionArea, sectorSize: number): Annotation[] {
  const out: Annotation[] = [];
  if (t.mbr) {
    out.push({ start: 0, length: 440, label: "MBR boot code" });
    out.push({
      start: 440,
      length: 4,
      label: `MBR disk signature 0x${t.mbr.diskSignature.toString(16).padStart(8, "0")}`,
    });
    for (const p of t.mbr.partitions) {
      out.push({
        start: 446 + p.slot * 16,
        length: 16,
        label: `MBR partition ${p.slot + 1}: ${p.typeName} (0x${hex2(p.type)}), LBA ${p.firstLba}, ${p.sectors} sectors`,
      });
    }
    out.push({
      start: 510,
      length: 2,
      label: t.mbr.signatureValid ? "MBR signature 55 AA" : "MBR signature (invalid)",
    });
  }
  if (t.gpt) {
    const g = t.gpt;
    out.push({
      start: sectorSize,
      length: g.headerSize,
      label: `GPT header rev ${g.revision >>> 16}.${g.revision & 0xffff}, disk ${g.diskGuid}, CRC ${g.headerCrcValid ? "ok" : "bad"}`,
    });
    for (const p of g.partitions) {
      out.push({
        start: g.entriesLba * sectorSize + p.index * g.entrySize,
        length: g.entrySize,
        label: `GPT partition ${p.index + 1}: ${p.typeName}${p.name ? ` "${p.name}"` : ""}, LBA ${p.firstLba}–${p.lastLba}`,
      });
    }
  }
  return out;
}
