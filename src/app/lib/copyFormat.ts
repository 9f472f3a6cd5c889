/**
 * What "Copy" puts on the clipboard for a selected byte range: a hex string, a hex dump with
 * offsets (the layout of `hexdump -C`), a C array (the layout of `xxd -i`), Base64, or the
 * printable text. Pure functions over bytes the engine returned, so they are tested against the
 * tools whose layouts they follow.
 */

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

// Every format is ASCII: it is written as bytes into one buffer and decoded once (every byte is
// below 0x80, so UTF-8 decodes it as ASCII, the decoders' fastest path). A 16 MiB copy then takes
// a fraction of a second where building strings piece by piece takes several.
const ASCII = new TextDecoder();
const POW16 = Array.from({ length: 14 }, (_, k) => 16 ** k);
const DIGITS = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const B64 = Uint8Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", (c) => c.charCodeAt(0));
const SP = 0x20;
const NL = 0x0a;
const DOT = 0x2e;

const printable = (b: number): boolean => b >= 0x20 && b < 0x7f;

/** An ASCII text built byte by byte into a buffer sized up front. */
class Ascii {
  private readonly buf: Uint8Array;
  n = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  byte(c: number): void {
    this.buf[this.n++] = c;
  }
  hex(b: number): void {
    this.buf[this.n++] = DIGITS[b >> 4];
    this.buf[this.n++] = DIGITS[b & 15];
  }
  /** `n` as `width` lower-case hex digits (offsets below 2^53 need at most 14). */
  offset(n: number, width: number): void {
    for (let k = width - 1; k >= 0; k--) this.buf[this.n++] = DIGITS[Math.floor(n / POW16[k]) % 16];
  }
  text(s: string): void {
    for (let i = 0; i < s.length; i++) this.buf[this.n++] = s.charCodeAt(i);
  }
  /** The text's bytes (a view of the buffer, which may be longer). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
  toString(): string {
    return ASCII.decode(this.bytes());
  }
}

/** Lower-case hex, two digits per byte, nothing between them. */
function hexAscii(bytes: Uint8Array): Ascii {
  const out = new Ascii(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) out.hex(bytes[i]);
  return out;
}

export function toHexString(bytes: Uint8Array): string {
  return hexAscii(bytes).toString();
}

/**
 * `hexdump -C -v` of the bytes as if they sat at `offset`: rows of 16 starting at `offset`, the
 * offset in at least 8 hex digits, 8 + 8 bytes, the printable characters between bars, and a last
 * line holding the end offset.
 */
function dumpAscii(bytes: Uint8Array, offset: number): Ascii {
  // hexdump prints each offset as %08x: 8 digits, more where an offset needs them.
  const hexWidth = (n: number): number => {
    let w = 8;
    while (w < 14 && n >= POW16[w]) w++;
    return w;
  };
  const width = hexWidth(offset + bytes.length);
  const rows = Math.ceil(bytes.length / 16);
  // Per row: offset, 2 spaces, 16 × 3 + 1 hex columns, space, bars around 16 characters, newline.
  const out = new Ascii(rows * (width + 2 + 49 + 1 + 18 + 1) + width + 1);
  for (let at = 0; at < bytes.length; at += 16) {
    const count = Math.min(16, bytes.length - at);
    out.offset(offset + at, hexWidth(offset + at));
    out.byte(SP);
    out.byte(SP);
    for (let i = 0; i < 16; i++) {
      if (i < count) {
        out.hex(bytes[at + i]);
        out.byte(SP);
      } else out.text("   ");
      if (i === 7) out.byte(SP);
    }
    out.byte(SP);
    out.byte(0x7c);
    for (let i = 0; i < count; i++) out.byte(printable(bytes[at + i]) ? bytes[at + i] : DOT);
    out.byte(0x7c);
    out.byte(NL);
  }
  out.offset(offset + bytes.length, width);
  out.byte(NL);
  return out;
}

export function toHexDump(bytes: Uint8Array, offset: number): string {
  return dumpAscii(bytes, offset).toString();
}

/** A C identifier from a free-form name: what xxd -i makes of a file name. */
export function cIdentifier(name: string): string {
  const id = name.replace(/[^0-9A-Za-z_]/g, "_");
  return /^[0-9]/.test(id) ? `__${id}` : id;
}

/** `xxd -i -n name`: an unsigned char array, 12 bytes a line, and its length. */
function cArrayAscii(bytes: Uint8Array, name: string): Ascii {
  const id = cIdentifier(name);
  const head = `unsigned char ${id}[] = {\n`;
  const tail = `\n};\nunsigned int ${id}_len = ${bytes.length};\n`;
  const out = new Ascii(head.length + bytes.length * 6 + Math.ceil(bytes.length / 12) * 3 + tail.length);
  out.text(head);
  for (let i = 0; i < bytes.length; i++) {
    if (i % 12 === 0) {
      if (i > 0) {
        out.byte(0x2c);
        out.byte(NL);
      }
      out.byte(SP);
      out.byte(SP);
    } else {
      out.byte(0x2c);
      out.byte(SP);
    }
    out.byte(0x30);
    out.byte(0x78);
    out.hex(bytes[i]);
  }
  out.text(tail);
  return out;
}

export function toCArray(bytes: Uint8Array, name: string): string {
  return cArrayAscii(bytes, name).toString();
}

/** RFC 4648 Base64 with padding, without line breaks. */
function base64Ascii(bytes: Uint8Array): Ascii {
  const n = bytes.length;
  const out = new Ascii(Math.ceil(n / 3) * 4);
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out.byte(B64[v >>> 18]);
    out.byte(B64[(v >>> 12) & 63]);
    out.byte(B64[(v >>> 6) & 63]);
    out.byte(B64[v & 63]);
  }
  if (n - i >= 1) {
    const v = (bytes[i] << 16) | (n - i === 2 ? bytes[i + 1] << 8 : 0);
    out.byte(B64[v >>> 18]);
    out.byte(B64[(v >>> 12) & 63]);
    out.byte(n - i === 2 ? B64[(v >>> 6) & 63] : 0x3d);
    out.byte(0x3d);
  }
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  return base64Ascii(bytes).toString();
}

/** Printable ASCII, tab, CR and LF as themselves; every other byte as "." (one character per byte, so offsets still count). */
function textAscii(bytes: Uint8Array): Ascii {
  const out = new Ascii(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    out.byte(printable(b) || b === 0x09 || b === 0x0a || b === 0x0d ? b : DOT);
  }
  return out;
}

export function toPrintableText(bytes: Uint8Array): string {
  return textAscii(bytes).toString();
}

/** The clipboard text of `bytes` (read at `offset` of `space`) in `format`. */
export function formatCopy(format: CopyFormat, bytes: Uint8Array, offset: number, space: string): string {
  return ASCII.decode(formatCopyAscii(format, bytes, offset, space));
}

/**
 * The same text as its ASCII bytes: what the formatting worker hands back (transferred, no copy),
 * so the page puts it on the clipboard as a Blob without ever building the string itself.
 */
export function formatCopyAscii(format: CopyFormat, bytes: Uint8Array, offset: number, space: string): Uint8Array {
  switch (format) {
    case "hex":
      return hexAscii(bytes).bytes();
    case "dump":
      return dumpAscii(bytes, offset).bytes();
    case "c":
      return cArrayAscii(bytes, `${space}_${offset.toString(16)}`).bytes();
    case "base64":
      return base64Ascii(bytes).bytes();
    case "text":
      return textAscii(bytes).bytes();
  }
}
