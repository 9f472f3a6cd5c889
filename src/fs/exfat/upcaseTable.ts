/**
 * The Up-case Table (§7.2): maps each UTF-16 code unit to its upper case, for NameHash (§7.6.4).
 * Stored compressed: 0xFFFF followed by a count means that many code units map to themselves.
 */
import { FsError } from "../errors";

/** §7.2.2: the table's checksum, the boot checksum's rotation over its bytes. */
export function tableChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) sum = ((((sum & 1) << 31) | (sum >>> 1)) + b[i]) >>> 0;
  return sum;
}

export class UpcaseTable {
  private constructor(private readonly map: Uint16Array) {}

  /** Expands a stored table; a table that maps past 65,536 units is an FsError. */
  static parse(b: Uint8Array, offset: number): UpcaseTable {
    const map = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) map[i] = i;
    let unit = 0;
    for (let i = 0; i + 1 < b.length && unit < 65536; i += 2) {
      const v = b[i] | (b[i + 1] << 8);
      if (v === 0xffff && i + 3 < b.length) {
        unit += b[i + 2] | (b[i + 3] << 8);
        i += 2;
        continue;
      }
      map[unit++] = v;
    }
    if (unit > 65536) throw new FsError("FS_CORRUPT", "the up-case table maps past U+FFFF", "up-case table", offset);
    return new UpcaseTable(map);
  }

  /** The name with each code unit up-cased through the table (§7.2: how names compare). */
  upcase(name: string): string {
    let out = "";
    for (let i = 0; i < name.length; i++) out += String.fromCharCode(this.map[name.charCodeAt(i)]);
    return out;
  }

  /** NameHash (§7.6.4): a 16-bit rotation over the up-cased name's bytes, low byte first. */
  nameHash(name: string): number {
    let h = 0;
    for (let i = 0; i < name.length; i++) {
      const u = this.map[name.charCodeAt(i)];
      h = ((h & 1 ? 0x8000 : 0) + (h >>> 1) + (u & 0xff)) & 0xffff;
      h = ((h & 1 ? 0x8000 : 0) + (h >>> 1) + (u >>> 8)) & 0xffff;
    }
    return h;
  }
}
