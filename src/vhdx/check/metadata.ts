import { ascii, isAllZero, view } from "../bytes";
import { hex, VhdxError } from "../errors";
import { Guid, isGuid, readGuid } from "../guid";
import {
  DiskParameters,
  FILE_PARAMETERS_GUID,
  FileParameters,
  itemName,
  KNOWN_METADATA,
  LOGICAL_SECTOR_SIZE_GUID,
  METADATA_ITEM_MAX_LENGTH,
  METADATA_MAX_ENTRIES,
  METADATA_MAX_USER_ENTRIES,
  METADATA_SIGNATURE,
  METADATA_TABLE_SIZE,
  MetadataTableEntry,
  PARENT_LOCATOR_GUID,
  parseFileParameters,
  parseSectorSize,
  parseVirtualDiskId,
  parseVirtualDiskSize,
  PHYSICAL_SECTOR_SIZE_GUID,
  VIRTUAL_DISK_ID_GUID,
  VIRTUAL_DISK_SIZE_GUID,
} from "../metadata";
import { ParentLocator, parseParentLocator, VHDX_PARENT_LOCATOR_TYPE } from "../parentLocator";
import { RegionTableEntry } from "../regionTable";
import { CheckContext } from "./findings";

const ENTRY_LEN = 32;
const TABLE_HEADER_LEN = 32;
/** §2.6.2: the IsVirtualDisk flag the spec's table gives each known item. */
const VIRTUAL_DISK_FLAG: Record<Guid, boolean> = Object.fromEntries(
  Object.entries(KNOWN_METADATA).map(([g, v]) => [g, v.isVirtualDisk]),
);

/**
 * §2.6: the metadata table (every entry judged, not just the first bad one), then each known
 * item decoded on its own. Returns the disk parameters when every required item decodes.
 */
export async function checkMetadata(ctx: CheckContext, region: RegionTableEntry): Promise<DiskParameters | null> {
  const base = region.fileOffset;
  if (region.length < METADATA_TABLE_SIZE) {
    ctx.add(
      "error",
      "METADATA_INVALID",
      `metadata region length ${hex(region.length)} is smaller than its 64 KiB table`,
      "metadata region",
      base,
      region.length,
    );
    return null;
  }
  if (base + METADATA_TABLE_SIZE > ctx.fileSize) {
    ctx.add(
      "error",
      "METADATA_INVALID",
      `the metadata table at ${hex(base)} lies past the end of the file (${hex(ctx.fileSize)})`,
      "metadata table",
      base,
      METADATA_TABLE_SIZE,
    );
    return null;
  }
  const table = await ctx.read(base, METADATA_TABLE_SIZE);
  const dv = view(table);
  const sig = ascii(table, 0, 8);
  if (sig !== METADATA_SIGNATURE) {
    ctx.add(
      "error",
      "METADATA_INVALID",
      `metadata table signature is ${JSON.stringify(sig)}, expected "metadata"`,
      "metadata table",
      base,
      8,
    );
    return null;
  }
  let count = dv.getUint16(10, true);
  if (count > METADATA_MAX_ENTRIES) {
    ctx.add(
      "error",
      "METADATA_INVALID",
      `metadata table entry count ${count} exceeds 2047 (§2.6.1.1); only 2047 are examined`,
      "metadata table",
      base + 10,
      2,
    );
    count = METADATA_MAX_ENTRIES;
  }
  if (dv.getUint16(8, true) !== 0 || !isAllZero(table.subarray(12, TABLE_HEADER_LEN))) {
    ctx.add(
      "warning",
      "METADATA_RESERVED",
      "metadata table header reserved fields are not zero",
      "metadata table",
      base + 8,
      24,
    );
  }

  const entries: { e: MetadataTableEntry; at: number; index: number }[] = [];
  const seen = new Set<string>();
  let userCount = 0;
  for (let i = 0; i < count; i++) {
    const o = TABLE_HEADER_LEN + i * ENTRY_LEN;
    const at = base + o;
    const where = `metadata table entry ${i}`;
    const flags = dv.getUint32(o + 24, true);
    const e: MetadataTableEntry = {
      itemId: readGuid(table, o),
      offset: dv.getUint32(o + 16, true),
      length: dv.getUint32(o + 20, true),
      isUser: (flags & 1) !== 0,
      isVirtualDisk: (flags & 2) !== 0,
      isRequired: (flags & 4) !== 0,
    };
    const name = itemName(e.itemId);
    let ok = true;
    const key = `${e.itemId}/${e.isUser}`;
    if (seen.has(key)) {
      ctx.add(
        "error",
        "METADATA_INVALID",
        `metadata item ${name} appears twice with the same IsUser (§2.6.1.2)`,
        where,
        at,
        ENTRY_LEN,
      );
      ok = false;
    }
    seen.add(key);
    if (e.isUser && ++userCount === METADATA_MAX_USER_ENTRIES + 1) {
      ctx.add(
        "error",
        "METADATA_INVALID",
        "more than 1024 metadata entries have IsUser set (§2.6.1.2)",
        where,
        at + 24,
        4,
      );
    }
    if (flags >>> 3 !== 0 || dv.getUint32(o + 28, true) !== 0) {
      ctx.add(
        "warning",
        "METADATA_RESERVED",
        `metadata table entry ${i} (${name}) has reserved bits set`,
        where,
        at + 24,
        8,
      );
    }
    if (e.length > METADATA_ITEM_MAX_LENGTH) {
      ctx.add(
        "error",
        "METADATA_INVALID",
        `metadata item ${name} length ${hex(e.length)} exceeds 1 MiB (§2.6.1.2)`,
        where,
        at + 20,
        4,
      );
      ok = false;
    } else if (e.length === 0 && e.offset !== 0) {
      ctx.add(
        "error",
        "METADATA_INVALID",
        `metadata item ${name} has length 0 but offset ${hex(e.offset)} (must be 0)`,
        where,
        at + 16,
        4,
      );
      ok = false;
    } else if (e.length > 0 && (e.offset < METADATA_TABLE_SIZE || e.offset + e.length > region.length)) {
      ctx.add(
        "error",
        "METADATA_INVALID",
        `metadata item ${name} at ${hex(e.offset)}+${hex(e.length)} must lie inside the metadata region after its table (64 KiB..${hex(region.length)})`,
        where,
        at + 16,
        8,
      );
      ok = false;
    } else if (e.length > 0 && base + e.offset + e.length > ctx.fileSize) {
      ctx.add(
        "error",
        "METADATA_INVALID",
        `metadata item ${name} at ${hex(base + e.offset)} runs past the end of the file (${hex(ctx.fileSize)})`,
        where,
        base + e.offset,
        e.length,
      );
      ok = false;
    }
    const known = KNOWN_METADATA[e.itemId];
    if (!known && e.isRequired) {
      ctx.add(
        "error",
        "METADATA_REQUIRED_UNKNOWN",
        `metadata item ${e.itemId} is marked required but is not defined by the spec; no implementation may load the file (§2.6.1.2)`,
        where,
        at,
        ENTRY_LEN,
      );
    } else if (!known) {
      ctx.add(
        "info",
        "METADATA_UNKNOWN",
        `metadata item ${e.itemId}${e.isUser ? " (user)" : ""} is not defined by the spec and is kept as it is`,
        where,
        at,
        ENTRY_LEN,
      );
    } else if (!e.isUser && (!e.isRequired || e.isVirtualDisk !== VIRTUAL_DISK_FLAG[e.itemId])) {
      ctx.add(
        "warning",
        "METADATA_FLAGS",
        `metadata item ${name} has IsRequired=${e.isRequired} IsVirtualDisk=${e.isVirtualDisk}; §2.6.2 gives IsRequired=true IsVirtualDisk=${VIRTUAL_DISK_FLAG[e.itemId]}`,
        where,
        at + 24,
        4,
      );
    }
    if (ok) entries.push({ e, at, index: i });
  }
  // §2.6.1.2: items must not overlap one another.
  const placed = entries.filter((x) => x.e.length > 0).sort((a, b) => a.e.offset - b.e.offset);
  let reach = placed[0];
  for (let i = 1; i < placed.length; i++) {
    const c = placed[i];
    if (c.e.offset < reach.e.offset + reach.e.length) {
      ctx.add(
        "error",
        "METADATA_OVERLAP",
        `metadata items ${itemName(reach.e.itemId)} [${hex(reach.e.offset)}, ${hex(reach.e.offset + reach.e.length)}) and ${itemName(c.e.itemId)} [${hex(c.e.offset)}, ${hex(c.e.offset + c.e.length)}) overlap`,
        `metadata item ${itemName(c.e.itemId)}`,
        base + c.e.offset,
        c.e.length,
      );
    }
    if (c.e.offset + c.e.length > reach.e.offset + reach.e.length) reach = c;
  }
  return decodeItems(
    ctx,
    entries.map((x) => x.e),
    base,
  );
}

async function decodeItems(
  ctx: CheckContext,
  entries: MetadataTableEntry[],
  base: number,
): Promise<DiskParameters | null> {
  const item = async <T>(
    guid: Guid,
    decode: (b: Uint8Array, at: number) => T,
    required: boolean,
  ): Promise<T | null> => {
    const e = entries.find((x) => x.itemId === guid && !x.isUser);
    if (!e) {
      if (required)
        ctx.add(
          "error",
          "METADATA_MISSING",
          `required metadata item ${itemName(guid)} (${guid}) is missing (§2.6.2)`,
          "metadata table",
          base,
          METADATA_TABLE_SIZE,
        );
      return null;
    }
    const at = base + e.offset;
    try {
      return decode(await ctx.read(at, e.length), at);
    } catch (err) {
      if (!(err instanceof VhdxError)) throw err;
      const code = err.code === "PARENT_LOCATOR_INVALID" ? "PARENT_LOCATOR_INVALID" : "METADATA_INVALID";
      ctx.add("error", code, err.message, err.structure, err.offset ?? at, e.length);
      return null;
    }
  };
  const fp: FileParameters | null = await item(FILE_PARAMETERS_GUID, parseFileParameters, true);
  const size = await item(VIRTUAL_DISK_SIZE_GUID, parseVirtualDiskSize, true);
  const id = await item(VIRTUAL_DISK_ID_GUID, parseVirtualDiskId, true);
  const lss = await item(LOGICAL_SECTOR_SIZE_GUID, (b, at) => parseSectorSize(b, at, "Logical Sector Size"), true);
  const pss = await item(PHYSICAL_SECTOR_SIZE_GUID, (b, at) => parseSectorSize(b, at, "Physical Sector Size"), true);
  const pl = await item(PARENT_LOCATOR_GUID, parseParentLocator, fp?.hasParent === true);
  if (size !== null && lss !== null && size % lss !== 0) {
    const e = entries.find((x) => x.itemId === VIRTUAL_DISK_SIZE_GUID)!;
    ctx.add(
      "error",
      "METADATA_INVALID",
      `virtual disk size ${size} is not a multiple of the logical sector size ${lss} (§2.6.2.2)`,
      "Virtual Disk Size",
      base + e.offset,
      8,
    );
  }
  if (pl) {
    const e = entries.find((x) => x.itemId === PARENT_LOCATOR_GUID && !x.isUser)!;
    checkParentLocator(ctx, pl, await ctx.read(base + e.offset, e.length), base + e.offset, fp?.hasParent === true);
  }
  if (!fp || size === null || id === null || lss === null || pss === null || (fp.hasParent && !pl)) {
    ctx.add(
      "info",
      "CHECK_INCOMPLETE",
      "the BAT was not checked because the metadata it depends on is missing or invalid",
      "BAT",
      base,
      0,
    );
    return null;
  }
  return {
    fileParameters: fp,
    virtualDiskSize: size,
    virtualDiskId: id,
    logicalSectorSize: lss,
    physicalSectorSize: pss,
    parentLocator: pl,
  };
}

const PATH_KEYS = ["relative_path", "volume_path", "absolute_win32_path"];

/** §2.6.2.6.1–2.6.2.6.3: header fields, NUL-free strings, and the keys a VHDX parent locator needs. */
function checkParentLocator(
  ctx: CheckContext,
  pl: ParentLocator,
  item: Uint8Array,
  at: number,
  hasParent: boolean,
): void {
  const bad = (msg: string, off = 0, len = 0) =>
    ctx.add("error", "PARENT_LOCATOR_INVALID", msg, "parent locator", at + off, len);
  if (!hasParent) {
    ctx.add(
      "warning",
      "METADATA_INVALID",
      "a parent locator is present but File Parameters' HasParent is not set; the locator is ignored",
      "parent locator",
      at,
      item.length,
    );
    return;
  }
  if (view(item).getUint16(16, true) !== 0)
    ctx.add("warning", "METADATA_RESERVED", "parent locator reserved field is not zero", "parent locator", at + 16, 2);
  if (pl.locatorType !== VHDX_PARENT_LOCATOR_TYPE) {
    bad(
      `parent locator type ${pl.locatorType} is not the VHDX locator type ${VHDX_PARENT_LOCATOR_TYPE} (§2.6.2.6.3)`,
      0,
      16,
    );
    return;
  }
  pl.entries.forEach((e, i) => {
    if (e.key.length * 2 !== e.keyLength || e.value.length * 2 !== e.valueLength) {
      bad(
        `parent locator entry ${i} (${JSON.stringify(e.key)}) has a NUL inside its key or value, or an odd length (§2.6.2.6.2)`,
        20 + i * 12,
        12,
      );
    }
  });
  const get = (k: string) => pl.entries.find((e) => e.key === k)?.value;
  const linkage = get("parent_linkage");
  const braced = (v: string) => /^\{[0-9a-fA-F-]{36}\}$/.test(v) && isGuid(v);
  if (linkage === undefined) bad("the parent locator has no parent_linkage entry (§2.6.2.6.3)");
  else if (!braced(linkage)) bad(`parent_linkage ${JSON.stringify(linkage)} is not a GUID in braces (§2.6.2.6.3)`);
  const linkage2 = get("parent_linkage2");
  if (linkage2 !== undefined && !braced(linkage2))
    bad(`parent_linkage2 ${JSON.stringify(linkage2)} is not a GUID in braces (§2.6.2.6.3)`);
  if (!PATH_KEYS.some((k) => get(k) !== undefined))
    bad("the parent locator has none of relative_path, volume_path, absolute_win32_path (§2.6.2.6.3)");
  const vol = get("volume_path");
  if (vol !== undefined && !/^\\\\\?\\Volume\{/i.test(vol))
    bad(`volume_path ${JSON.stringify(vol)} must begin with \\\\?\\Volume{ (§2.6.2.6.3)`);
  const abs = get("absolute_win32_path");
  if (abs !== undefined && !abs.startsWith("\\\\?\\"))
    bad(`absolute_win32_path ${JSON.stringify(abs)} must begin with \\\\?\\ (§2.6.2.6.3)`);
}
