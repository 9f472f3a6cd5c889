/**
 * The VHD structures' parse/serialize pairs round-trip; checksums and geometry follow the format's
 * documents, checked against the bytes qemu-img writes (a footer and header it made, read back and
 * serialized again byte for byte) and against the geometries qemu-img chose for given sizes.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseBat, serializeBat } from "../../src/vhd/bat";
import { onesComplementChecksum } from "../../src/vhd/bytes";
import { parseDynamicHeader, serializeDynamicHeader } from "../../src/vhd/dynamicHeader";
import { parseFooter, readFooter, serializeFooter } from "../../src/vhd/footer";
import { chsForSize } from "../../src/vhd/geometry";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";
import { qemuVhd } from "../helpers/vhd";

const MiB = 1 << 20;
const tmp = useTempDir("vhd-structures-");

describe.skipIf(missingTools("qemu-img"))("VHD structures against qemu-img's bytes", () => {
  it("footer, its copy, the dynamic disk header and the BAT serialize back to the same bytes", () => {
    const b = new Uint8Array(readFileSync(qemuVhd(tmp.path("d.vhd"), 20 * MiB, "dynamic")));
    const end = b.subarray(b.length - 512);
    const f = readFooter(end, b.length - 512);
    expect(serializeFooter(f)).toEqual(end);
    expect(serializeFooter(parseFooter(b.subarray(0, 512), 0))).toEqual(b.subarray(0, 512));
    const h = parseDynamicHeader(b.subarray(512, 1536), 512);
    expect(serializeDynamicHeader(h)).toEqual(b.subarray(512, 1536));
    const n = Math.ceil(f.currentSize / h.blockSize);
    const batBytes = b.subarray(h.tableOffset, h.tableOffset + Math.ceil((n * 4) / 512) * 512);
    expect(serializeBat(parseBat(batBytes, n))).toEqual(batBytes);
  });

  it("the geometry of qemu-img's disks is the specification's for their size", () => {
    for (const size of [MiB, 10 * MiB, 100 * MiB, 1000 * MiB, 40 * 1024 * MiB]) {
      const b = new Uint8Array(readFileSync(qemuVhd(tmp.path(`g${size}.vhd`), size, "dynamic")));
      const f = readFooter(b.subarray(b.length - 512), b.length - 512);
      expect(chsForSize(f.currentSize), `${size}`).toEqual(f.diskGeometry);
    }
  });
});

describe("VHD checksum", () => {
  it("is the one's complement of the byte sum, the field itself left out", () => {
    const b = new Uint8Array(16).fill(1);
    b.set([9, 9, 9, 9], 4);
    expect(onesComplementChecksum(b, 4)).toBe(~12 >>> 0);
  });
});
