/**
 * What "Copy" puts on the clipboard for a selected byte range: a hex string, a hex dump with
 * offsets (the layout of `hexdump -C`), a C array (the layout of `xxd -i`), Base64, or the
 * printable text. Pure functions over bytes the engine returned, so they are tested against the
 * tools whose layouts they follow.
 */
import { hexByte } from "./hexFormat";

export type CopyFormat = "hex" | "dump" | "c" | "base64" | "text";

export const COPY_FORMATS: readonly { format: CopyFormat; label: string; description: string }[] = [
  { format: "hex", label: "Hex", description: "hex string, two digits per byte" },
  { format: "dump", label: "Dump", description: "hex dump with offsets and text, as hexdump -C prints it" },
  { format: "c", label: "C array", description: "C array, as xxd -i prints it" },
  { format: "base64", label: "Base64", description: "Base64 (RFC 4648)" },
  { format: "text", label: "Text", description: "text: printable ASCII, tabs and line breaks; other bytes as ." },
];

/**
 * The most bytes one copy takes. A selection can span a 64 TiB disk; the clipboard and the page's
 * memory cannot, and the text forms are two to six times the bytes.
 */
export const MAX_COPY_BYTES = 16 * 1024 * 1024;

/** Lower-case hex, two digits per byte, nothing between them. */
export function toHexString(bytes: Uint8Array): string {
  const parts: string[] = new Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = hexByte(bytes[i]);
  return parts.join("");
}

const printable = (b: number): boolean => b >= 0x20 && b < 0x7f;

/**
 * `hexdump -C -v` of the bytes as if they sat at `offset`: rows of 16 starting at `offset`, the
 * offset in at least 8 hex digits, 8 + 8 bytes, the printable characters between bars, and a last
 * line holding the end offset.
 */
export function toHexDump(bytes: Uint8Array, offset: number): string {
  const off = (n: number) => n.toString(16).padStart(8, "0");
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, bytes.length));
    let hex = "";
    let text = "";
    for (let i = 0; i < 16; i++) {
      hex += i < row.length ? `${hexByte(row[i])} ` : "   ";
      if (i === 7) hex += " ";
      if (i < row.length) text += printable(row[i]) ? String.fromCharCode(row[i]) : ".";
    }
    lines.push(`${off(offset + at)}  ${hex} |${text}|`);
  }
  lines.push(off(offset + bytes.length));
  return lines.join("\n") + "\n";
}

/** A C identifier from a free-form name: what xxd -i makes of a file name. */
export function cIdentifier(name: string): string {
  const id = name.replace(/[^0-9A-Za-z_]/g, "_");
  return /^[0-9]/.test(id) ? `__${id}` : id;
}

/** `xxd -i -n name`: an unsigned char array, 12 bytes a line, and its length. */
export function toCArray(bytes: Uint8Array, name: string): string {
  const id = cIdentifier(name);
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 12) {
    const row = Array.from(bytes.subarray(at, Math.min(at + 12, bytes.length)), (b) => `0x${hexByte(b)}`);
    lines.push(`  ${row.join(", ")}`);
  }
  return `unsigned char ${id}[] = {\n${lines.join(",\n")}\n};\nunsigned int ${id}_len = ${bytes.length};\n`;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** RFC 4648 Base64 with padding, without line breaks. */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = "";
  const n = bytes.length;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    chunk += B64[v >>> 18] + B64[(v >>> 12) & 63] + B64[(v >>> 6) & 63] + B64[v & 63];
    // Joining many short strings beats one ever-growing concatenation on multi-megabyte copies.
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = "";
    }
  }
  if (n - i === 1) {
    const v = bytes[i] << 16;
    chunk += `${B64[v >>> 18]}${B64[(v >>> 12) & 63]}==`;
  } else if (n - i === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    chunk += `${B64[v >>> 18]}${B64[(v >>> 12) & 63]}${B64[(v >>> 6) & 63]}=`;
  }
  parts.push(chunk);
  return parts.join("");
}

/** Printable ASCII, tab, CR and LF as themselves; every other byte as "." (nothing is lost silently: the count is the same). */
export function toPrintableText(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let at = 0; at < bytes.length; at += 8192) {
    let s = "";
    const end = Math.min(at + 8192, bytes.length);
    for (let i = at; i < end; i++) {
      const b = bytes[i];
      s += printable(b) || b === 0x09 || b === 0x0a || b === 0x0d ? String.fromCharCode(b) : ".";
    }
    parts.push(s);
  }
  return parts.join("");
}

/** The clipboard text of `bytes` (read at `offset` of `space`) in `format`. */
export function formatCopy(format: CopyFormat, bytes: Uint8Array, offset: number, space: string): string {
  switch (format) {
    case "hex":
      return toHexString(bytes);
    case "dump":
      return toHexDump(bytes, offset);
    case "c":
      return toCArray(bytes, `${space}_${offset.toString(16)}`);
    case "base64":
      return toBase64(bytes);
    case "text":
      return toPrintableText(bytes);
  }
}
