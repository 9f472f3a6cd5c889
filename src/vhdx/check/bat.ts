import {
  Bat,
  BAT_ENTRY_SIZE,
  batGeometry,
  BatGeometry,
  isRetainedState,
  visitSpans,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  PAYLOAD_STATE_NAMES,
  SB_BLOCK_NOT_PRESENT,
  SB_BLOCK_PRESENT,
  SB_STATE_NAMES,
  SECTOR_BITMAP_BLOCK_SIZE,
} from "../bat";
import { readOwned } from "../io";
import { MiB } from "../bytes";
import { hex } from "../errors";
import { HEADER_SECTION_SIZE } from "../open";
import { DiskParameters } from "../metadata";
import { RegionTableEntry } from "../regionTable";
import { RegionRegistry } from "../registry";
import { CheckContext } from "./findings";

/**
 * §2.5: BAT size, every entry's state for the disk type, reserved bits, and where each allocated
 * block lies. Blocks inside the file are registered for the overlap check; work and memory follow
 * the BAT bytes the file really holds.
 */
export async function checkBat(
  ctx: CheckContext,
  region: RegionTableEntry,
  params: DiskParameters,
  reg: RegionRegistry,
): Promise<Bat> {
  const fp = params.fileParameters;
  const g = batGeometry(fp.blockSize, params.logicalSectorSize, params.virtualDiskSize, fp.hasParent);
  const needed = g.totalBatEntries * BAT_ENTRY_SIZE;
  if (region.length < needed) {
    ctx.add(
      "error",
      "BAT_TOO_SMALL",
      `the BAT region holds ${Math.floor(region.length / BAT_ENTRY_SIZE)} entries but a ${params.virtualDiskSize}-byte disk with ${fp.blockSize}-byte blocks needs ${g.totalBatEntries} (§2.5)`,
      "BAT region",
      region.fileOffset,
      region.length,
    );
  }
  const examined = Math.min(needed, region.length);
  const inFile = Math.max(0, Math.min(examined, ctx.fileSize - region.fileOffset));
  if (inFile < examined) {
    ctx.add(
      "error",
      "BAT_TRUNCATED",
      `the BAT's entries run to ${hex(region.fileOffset + examined)}, past the end of the file (${hex(ctx.fileSize)}); the missing entries read as NOT_PRESENT`,
      "BAT region",
      region.fileOffset + inFile,
      examined - inFile,
    );
  }
  // Entries past the file's data read as zeros (NOT_PRESENT): only the bytes that exist are read,
  // into a buffer the Bat adopts where the backend can (no second copy of a 16 MiB BAT).
  const withData = Math.max(0, Math.min(inFile, ctx.dataEnd - region.fileOffset));
  const raw = await readOwned(ctx.io, region.fileOffset, withData - (withData % BAT_ENTRY_SIZE));
  const bat = new Bat(g, raw.bytes, Math.floor(examined / BAT_ENTRY_SIZE), raw.owned);
  judgeEntries(ctx, bat, g, region.fileOffset, fp.hasParent, reg);
  return bat;
}

function judgeEntries(
  ctx: CheckContext,
  bat: Bat,
  g: BatGeometry,
  batAt: number,
  differencing: boolean,
  reg: RegionRegistry,
): void {
  const w = bat.words;
  const n = w.length >>> 1;
  const period = g.chunkRatio + 1;
  const type = differencing ? "differencing" : "non-differencing";
  // §2.5.1.2: a PARTIALLY_PRESENT block needs its chunk's sector bitmap block present.
  const sbPresent = (chunk: number) => {
    const i = chunk * period + g.chunkRatio;
    return i < n && (w[i * 2] & 7) === SB_BLOCK_PRESENT;
  };
  // Findings and registrations made, so a span of identical chunks can be settled by its first.
  let acted = 0;
  const add: CheckContext["add"] = (...finding) => {
    acted++;
    ctx.add(...finding);
  };
  // Spans start on chunk boundaries, so each starts at phase 0. An all-zero span holds nothing to
  // judge; in a span of identical chunks (QEMU's fresh images: ZERO entries), if the first chunk
  // gives no finding and owns no space, neither does any other.
  visitSpans(w, n, period, (start, end) => {
    const before = acted;
    for (let i = start, phase = 0; i < end; i++, phase = phase === g.chunkRatio ? 0 : phase + 1) {
      judgeEntry(i, phase);
    }
    return acted !== before;
  });

  function judgeEntry(i: number, phase: number): void {
    const lo = w[i * 2];
    const hi = w[i * 2 + 1];
    if (lo === 0 && hi === 0) return;
    const state = lo & 7;
    const entryAt = batAt + i * BAT_ENTRY_SIZE;
    const where = `BAT entry ${i}`;
    if ((lo >>> 3) & 0x1ffff)
      add(
        "warning",
        "BAT_RESERVED",
        `${where} has reserved bits set (${hex((lo >>> 3) & 0x1ffff)}); they must be 0 (§2.5.1)`,
        where,
        entryAt,
        8,
      );
    const isSb = phase === g.chunkRatio;
    let length = 0;
    // §2.5.1.1: an UNMAPPED or UNDEFINED entry keeping a FileOffsetMB owns that space (retained contents).
    let retained = false;
    if (isSb) {
      if (state === SB_BLOCK_PRESENT && differencing) length = SECTOR_BITMAP_BLOCK_SIZE;
      else if (state !== SB_BLOCK_NOT_PRESENT) {
        add(
          "error",
          "BAT_STATE_INVALID",
          `${where} (sector bitmap) is ${SB_STATE_NAMES[state]}, not valid in a ${type} disk (§2.5.1.2)`,
          where,
          entryAt,
          8,
        );
      }
    } else if (state === PAYLOAD_BLOCK_FULLY_PRESENT) {
      length = g.blockSize;
    } else if (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT) {
      if (!differencing) {
        add(
          "error",
          "BAT_STATE_INVALID",
          `${where} is PARTIALLY_PRESENT, which is valid only in differencing disks (§2.5.1.1)`,
          where,
          entryAt,
          8,
        );
      } else {
        length = g.blockSize;
        if (!sbPresent(Math.floor(i / period))) {
          add(
            "error",
            "BAT_STATE_INVALID",
            `${where} is PARTIALLY_PRESENT but its chunk's sector bitmap block is not present (§2.5.1.2)`,
            where,
            entryAt,
            8,
          );
        }
      }
    } else if (isRetainedState(state) && (lo >>> 20 !== 0 || hi !== 0)) {
      length = g.blockSize;
      retained = true;
    } else if (state === 4 || state === 5) {
      add(
        "error",
        "BAT_STATE_INVALID",
        `${where} has reserved payload state ${state} (${PAYLOAD_STATE_NAMES[state]}) (§2.5.1.1)`,
        where,
        entryAt,
        8,
      );
    }
    if (length === 0) return;
    // FileOffsetMB has 44 bits: anything from 2^33 MiB on is far past any file and past 2^53 bytes.
    const mb = (lo >>> 20) + hi * 4096;
    const start = mb * MiB;
    if (retained && (start < HEADER_SECTION_SIZE || hi >= 0x200000 || start + length > ctx.fileSize)) {
      add(
        "warning",
        "BAT_RETAINED_OFFSET_INVALID",
        `${where} is ${PAYLOAD_STATE_NAMES[state]} and keeps FileOffsetMB ${mb}, but [${hex(start)}, ${hex(start + length)}) is ${start < HEADER_SECTION_SIZE ? "inside the header section" : "past the end of the file"}: no retained contents can be there (§2.5.1.1); the block reads as zeros`,
        where,
        entryAt,
        8,
      );
    } else if (start < HEADER_SECTION_SIZE) {
      add(
        "error",
        "BAT_OFFSET_INVALID",
        `${where} places its block at ${hex(start)}, inside the header section (§2.5.1)`,
        where,
        entryAt,
        8,
      );
    } else if (hi >= 0x200000 || start + length > ctx.fileSize) {
      add(
        "error",
        "BAT_ENTRY_BEYOND_EOF",
        `${where} points past the end of the file (FileOffsetMB ${mb}, block ends at ${hex(start + length)} > ${hex(ctx.fileSize)})`,
        where,
        entryAt,
        8,
      );
    } else {
      acted++;
      reg.addBlock(start, length, i, isSb, retained);
    }
  }
}
