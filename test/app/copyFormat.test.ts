/**
 * The clipboard formats against independent oracles: Node's Buffer for hex and Base64,
 * `hexdump -C -v` for the dump, `xxd -i -n` for the C array, and the printable-text rule by hand.
 * Each check runs twice: on the formatting functions directly and through the formatting worker's
 * protocol (its methods served on a MessagePort, the bytes transferred), the path the page uses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cIdentifier, formatCopy, formatCopyAscii, type CopyFormat } from "../../src/app/lib/copyFormat";
import { copyMethods, type CopyMethods } from "../../src/app/lib/copyJob";
import { createRpcClient } from "../../src/app/engine/rpc";
import { serve } from "../../src/worker/host";
import type { Port } from "../../src/worker/protocol";
import { Rng } from "../helpers/random";
import { missingTools } from "../helpers/tools";

/** Lengths around every row and padding boundary of the formats. */
const LENGTHS = [1, 2, 3, 4, 7, 8, 9, 11, 12, 13, 15, 16, 17, 31, 32, 33, 100, 4096, 65537];
const sample = (n: number, seed = n) => new Rng(seed).bytes(n);

type Format = (format: CopyFormat, bytes: Uint8Array, offset: number, space: string) => Promise<string>;

/** The formatting worker's methods served on a MessagePort, called as the page calls them. */
function workerPath(): { format: Format; close: () => void } {
  const ch = new MessageChannel();
  serve(ch.port1 as unknown as Port, copyMethods);
  const client = createRpcClient<CopyMethods>(ch.port2 as unknown as Port);
  ch.port1.start();
  ch.port2.start();
  return {
    // A copy of the bytes crosses (transferred), so the caller's sample stays usable.
    format: (format, bytes, offset, space) => {
      const own = bytes.slice();
      const ascii = client.call("format", [format, own, offset, space, []], { transfer: [own.buffer] });
      return ascii.then((a) => new TextDecoder().decode(a));
    },
    close: () => {
      client.dispose();
      ch.port1.close();
      ch.port2.close();
    },
  };
}

const worker = workerPath();
afterAll(() => worker.close());
const PATHS: [string, Format][] = [
  ["formatted on the page", async (f, b, o, s) => formatCopy(f, b, o, s)],
  ["as ASCII bytes", async (f, b, o, s) => new TextDecoder().decode(formatCopyAscii(f, b, o, s))],
  ["formatted in the worker", worker.format],
];

describe.each(PATHS)("hex string and Base64 (Node's Buffer as the oracle), %s", (_name, format) => {
  it("hex: two lower-case digits per byte", async () => {
    for (const n of LENGTHS) {
      const b = sample(n);
      expect(await format("hex", b, 0, "virtual")).toBe(Buffer.from(b).toString("hex"));
    }
    expect(await format("hex", Uint8Array.of(0xde, 0xad, 0x00, 0x0f), 0, "virtual")).toBe("dead000f");
  });

  it("Base64 with padding for every remainder, and every byte value", async () => {
    for (const n of [...LENGTHS, 0, 3 * 8192, 3 * 8192 + 1, 1 << 20]) {
      const b = sample(n);
      expect(await format("base64", b, 0, "virtual")).toBe(Buffer.from(b).toString("base64"));
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(await format("base64", all, 0, "virtual")).toBe(Buffer.from(all).toString("base64"));
  });
});

describe.each(PATHS)("printable text, %s", (_name, format) => {
  it("keeps printable ASCII, tab, CR and LF; every other byte becomes one dot", async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = await format("text", all, 0, "virtual");
    expect(text.length).toBe(256);
    for (let b = 0; b < 256; b++) {
      const keep = (b >= 0x20 && b <= 0x7e) || b === 9 || b === 10 || b === 13;
      expect(text.charCodeAt(b)).toBe(keep ? b : 0x2e);
    }
    expect(await format("text", new TextEncoder().encode("EFI PART\r\n"), 0, "virtual")).toBe("EFI PART\r\n");
  });
});

const skip = missingTools("hexdump", "xxd");
describe.skipIf(!!skip).each(PATHS)("dump and C array (hexdump -C and xxd -i as the oracles), %s", (_name, format) => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vhdx-copyformat-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The bytes placed at `offset` of a file, so the tools print the same offsets. */
  function file(bytes: Uint8Array, offset: number): string {
    const p = join(dir, `f${offset}-${bytes.length}`);
    const whole = new Uint8Array(offset + bytes.length);
    whole.set(bytes, offset);
    writeFileSync(p, whole);
    return p;
  }

  it("the dump is hexdump -C -v of the same range, offsets included", async () => {
    for (const [n, offset] of [
      [1, 0],
      [16, 0],
      [17, 3],
      [40, 0x1003],
      [100, 0x10],
      [255, 7],
    ]) {
      const b = sample(n, offset + 1);
      // Runs of repeated rows too: -v keeps them (the clipboard should not hold "*").
      if (n >= 48) b.fill(0x41, 0, 48);
      const p = file(b, offset);
      const want = execFileSync("hexdump", ["-C", "-v", "-s", String(offset), "-n", String(n), p], {
        encoding: "latin1",
      });
      expect(await format("dump", b, offset, "virtual")).toBe(want);
    }
  });

  it("offsets crossing 4 GiB widen line by line as hexdump's do (a sparse file as the oracle)", async () => {
    const p = join(dir, "sparse");
    const at = 2 ** 32 - 24;
    const b = sample(64, 3);
    const fd = openSync(p, "w");
    try {
      ftruncateSync(fd, at + 64);
      writeSync(fd, b, 0, b.length, at);
    } finally {
      closeSync(fd);
    }
    const want = execFileSync("hexdump", ["-C", "-v", "-s", String(at), "-n", "64", p], { encoding: "latin1" });
    expect(await format("dump", b, at, "virtual")).toBe(want);
  });

  it("offsets past 4 GiB widen as hexdump's do", async () => {
    const dump = await format("dump", Uint8Array.of(1, 2), 0x1_2345_6789, "virtual");
    expect(dump.split("\n")[0].startsWith("123456789  01 02")).toBe(true);
    expect(dump.split("\n")[1]).toBe("12345678b");
  });

  it("the C array is xxd -i -n of the same bytes", async () => {
    for (const n of LENGTHS) {
      const b = sample(n);
      const p = file(b, 0);
      const want = execFileSync("xxd", ["-i", "-n", "virtual_1000", p], { encoding: "latin1" });
      expect(await format("c", b, 0x1000, "virtual")).toBe(want);
    }
  });

  it("names become C identifiers as xxd makes them", () => {
    expect(cIdentifier("file_1f0")).toBe("file_1f0");
    expect(cIdentifier("sample.vhdx")).toBe("sample_vhdx");
    expect(cIdentifier("1st")).toBe("__1st");
  });
});

describe.each(PATHS)("formatCopy, %s", (_name, format) => {
  it("dispatches each format with the range's offset and space", async () => {
    const b = Uint8Array.of(0x45, 0x46, 0x49, 0x00);
    expect(await format("hex", b, 0x200, "virtual")).toBe("45464900");
    expect(await format("base64", b, 0x200, "virtual")).toBe(Buffer.from(b).toString("base64"));
    expect(await format("text", b, 0x200, "virtual")).toBe("EFI.");
    expect((await format("dump", b, 0x200, "virtual")).startsWith("00000200  45 46 49 00")).toBe(true);
    expect(await format("c", b, 0x200, "file")).toContain("unsigned char file_200[] = {");
  });
});
