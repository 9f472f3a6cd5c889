import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isGuid, newGuid, normalizeGuid, readGuid, writeGuid } from "../../src/vhdx/guid";
import { BAT_REGION_GUID, METADATA_REGION_GUID } from "../../src/vhdx/regionTable";
import { runOk } from "../helpers/run";
import { missingTools, requireTool } from "../helpers/tools";

describe("GUID byte order", () => {
  it("stores Data1, Data2, Data3 little-endian and Data4 as is", () => {
    const b = new Uint8Array(16);
    writeGuid(b, 0, "00112233-4455-6677-8899-aabbccddeeff");
    expect([...b].map((x) => x.toString(16).padStart(2, "0")).join("")).toBe("33221100554477668899aabbccddeeff");
    expect(readGuid(b, 0)).toBe("00112233-4455-6677-8899-aabbccddeeff");
  });

  it("round-trips random GUIDs at any offset", () => {
    const b = new Uint8Array(40);
    for (let i = 0; i < 20; i++) {
      const g = newGuid();
      writeGuid(b, 7, g);
      expect(readGuid(b, 7)).toBe(g);
    }
  });

  it("normalizes case and braces, and rejects non-GUIDs", () => {
    expect(normalizeGuid("{2DC27766-F623-4200-9D64-115E9BFD4A08}")).toBe(BAT_REGION_GUID);
    expect(isGuid("2dc27766-f623-4200-9d64-115e9bfd4a0")).toBe(false);
    expect(isGuid("not a guid")).toBe(false);
  });

  it.skipIf(missingTools("qemu-img", "vhdiinfo"))("decodes a qemu-img image's GUIDs as the spec and libvhdi do", () => {
    const dir = mkdtempSync(join(tmpdir(), "vhdx-guid-"));
    try {
      const path = join(dir, "q.vhdx");
      runOk(requireTool("qemu-img"), ["create", "-q", "-f", "vhdx", "-o", "subformat=dynamic", path, "8M"]);
      const bytes = readFileSync(path);
      // The region table entries carry the spec's region GUIDs (§2.2.3.2): a known answer for the layout.
      const rt = 192 * 1024;
      const regionGuids = [readGuid(bytes, rt + 16), readGuid(bytes, rt + 48)].sort();
      expect(regionGuids).toEqual([BAT_REGION_GUID, METADATA_REGION_GUID].sort());
      // vhdiinfo prints the header's DataWriteGuid as the image identifier.
      const out = runOk(requireTool("vhdiinfo"), [path]).stdout;
      const m = /Identifier\s*:\s*([0-9a-f-]{36})/i.exec(out);
      expect(m, out).not.toBeNull();
      const ids = [readGuid(bytes, 64 * 1024 + 32), readGuid(bytes, 128 * 1024 + 32)];
      expect(ids).toContain(m![1].toLowerCase());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
