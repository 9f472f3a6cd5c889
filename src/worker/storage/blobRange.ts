import { VhdxError } from "../../vhdx/errors";

/**
 * Reads [offset, offset+length) of a Blob through a lazy slice: only those bytes are read from
 * disk. Bytes past the end read as zeros, as RandomAccess requires.
 */
export async function readBlobRange(blob: Blob, offset: number, length: number, what: string): Promise<Uint8Array> {
  const end = Math.min(blob.size, offset + length);
  if (offset >= end) return new Uint8Array(length);
  let buf: ArrayBuffer;
  try {
    buf = await blob.slice(offset, end).arrayBuffer();
  } catch (e) {
    // Chromium throws NotReadableError when the file behind a File changed after it was picked.
    const name = e instanceof Error ? e.name : "";
    const why =
      name === "NotReadableError"
        ? "the file changed or disappeared on disk since it was opened; open it again"
        : `the browser refused the read (${describeDomError(e)})`;
    throw new VhdxError("IO_ERROR", `Cannot read ${length} bytes of ${what}: ${why}`, what, offset);
  }
  // A whole range is handed over as read; only one cut short by the end of the Blob is copied.
  if (buf.byteLength === length) return new Uint8Array(buf);
  const out = new Uint8Array(length);
  out.set(new Uint8Array(buf));
  return out;
}

export function describeDomError(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== "Error" ? `${e.name}: ${e.message}` : e.message;
  return String(e);
}
