/**
 * The Master File Table read through its own $DATA runs ($MFT is record 0, and may be
 * fragmented or spread over extension records). Records are read 1 MiB at a time and the last
 * few pieces kept, so a directory listing that visits thousands of records reads each piece once.
 */
import { FsError } from "../errors";
import type { BlockDevice } from "../types";
import { AT_ATTRIBUTE_LIST, AT_DATA, type Attribute } from "./attribute";
import { parseAttributeList } from "./attributeList";
import type { NtfsBootSector } from "./bootSector";
import { parseMftRecord, type MftRecord } from "./mftRecord";
import { readStream, streamOf, type Stream } from "./stream";

const PIECE = 1024 * 1024;
const PIECES_KEPT = 8;

export class Mft {
  readonly clusters: number;
  private stream: Stream;
  private readonly pieces = new Map<number, Uint8Array>();
  /** Pieces being read (one asked for, or the one after it read ahead). */
  private readonly reading = new Map<number, Promise<Uint8Array>>();
  private opened = false;

  private constructor(
    readonly device: BlockDevice,
    readonly bs: NtfsBootSector,
    stream: Stream,
  ) {
    this.stream = stream;
    this.clusters = Math.floor((bs.totalSectors * bs.bytesPerSector) / bs.bytesPerCluster);
  }

  /** Records the MFT holds. */
  get recordCount(): number {
    return Math.floor(this.stream.dataSize / this.bs.mftRecordSize);
  }

  static async open(device: BlockDevice, bs: NtfsBootSector): Promise<Mft> {
    const clusters = Math.floor((bs.totalSectors * bs.bytesPerSector) / bs.bytesPerCluster);
    const at0 = bs.mftLcn * bs.bytesPerCluster;
    const rec0 = parseMftRecord(await device.read(at0, bs.mftRecordSize), 0, clusters, at0);
    const data = rec0.attributes.filter((a) => a.type === AT_DATA && a.name === "");
    if (data.length === 0) throw new FsError("FS_CORRUPT", "$MFT has no $DATA attribute", "MFT record 0", at0);
    // Enough of the MFT to read its own extension records, then all of it.
    const mft = new Mft(
      device,
      bs,
      streamOf(
        data.filter((a) => a.lowestVcn === 0),
        bs.bytesPerCluster,
        "$MFT",
        true,
      ),
    );
    const list = rec0.attributes.find((a) => a.type === AT_ATTRIBUTE_LIST);
    if (list) {
      const pieces: Attribute[] = [...data];
      const entries = parseAttributeList(await mft.attributeValue(list, "$MFT"), at0);
      const seen = new Set<number>([0]);
      for (const e of entries) {
        if (e.type !== AT_DATA || e.name !== "" || seen.has(e.record)) continue;
        seen.add(e.record);
        const ext = await mft.record(e.record);
        pieces.push(...ext.attributes.filter((a) => a.type === AT_DATA && a.name === "" && a.lowestVcn > 0));
      }
      mft.stream = streamOf(pieces, bs.bytesPerCluster, "$MFT");
    }
    mft.pieces.clear();
    mft.opened = true;
    return mft;
  }

  /** The value of an attribute, resident or not (an attribute list, a small stream). */
  async attributeValue(a: Attribute, what: string): Promise<Uint8Array> {
    if (a.value) return a.value;
    if (a.dataSize > 64 * 1024 * 1024)
      throw new FsError(
        "FS_CORRUPT",
        `${what}: a ${a.dataSize}-byte value where a small one belongs`,
        "attribute header",
        a.recordOffset,
      );
    return readStream(this.device, streamOf([a], this.bs.bytesPerCluster, what), 0, a.dataSize);
  }

  /** Where record `n` lies on the volume (the MFT's runs map it); -1 past the MFT. */
  async recordOffset(n: number): Promise<number> {
    const size = this.bs.mftRecordSize;
    const at = n * size;
    const cb = this.bs.bytesPerCluster;
    for (const r of this.stream.runs) {
      if (at < (r.vcn + r.length) * cb && at >= r.vcn * cb) return r.lcn === null ? -1 : r.lcn * cb + (at - r.vcn * cb);
    }
    return -1;
  }

  /**
   * Record `n`'s bytes as stored (fixups not applied) when the piece holding it is in memory;
   * undefined when `loadRecord` must read it first. A view: the caller copies before changing it.
   */
  storedRecord(n: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.recordCount) return undefined;
    const size = this.bs.mftRecordSize;
    const at = n * size;
    const piece = Math.floor(at / PIECE);
    const bytes = this.pieces.get(piece);
    if (!bytes) return undefined;
    const o = at - piece * PIECE;
    return bytes.subarray(o, o + size);
  }

  /**
   * Reads the piece holding record `n` (and, once the MFT is open, starts reading the next, which
   * a listing in record order asks for next), then gives the record's stored bytes.
   */
  async loadRecord(n: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.recordCount) {
      throw new FsError("FS_NOT_FOUND", `MFT record ${n} is past the MFT's ${this.recordCount} records`, "MFT", 0);
    }
    const size = this.bs.mftRecordSize;
    const piece = Math.floor((n * size) / PIECE);
    const next = piece + 1;
    if (this.opened && next * PIECE < this.stream.dataSize && !this.pieces.has(next) && !this.reading.has(next)) {
      // Read ahead, not awaited: a failure shows when the piece is asked for.
      this.readPiece(next).catch(() => undefined);
    }
    const bytes = this.pieces.get(piece) ?? (await this.readPiece(piece));
    const o = n * size - piece * PIECE;
    return bytes.subarray(o, o + size);
  }

  /** Reads a piece into the pieces kept; a piece already being read is read once. */
  private readPiece(piece: number): Promise<Uint8Array> {
    let p = this.reading.get(piece);
    if (!p) {
      const stream = this.stream;
      const len = Math.min(PIECE, stream.dataSize - piece * PIECE);
      p = readStream(this.device, stream, piece * PIECE, len)
        .then((bytes) => {
          // Read through the stream as it was: a piece read before the MFT was wholly mapped is not kept.
          if (stream === this.stream) {
            if (this.pieces.size >= PIECES_KEPT) this.pieces.delete(this.pieces.keys().next().value!);
            this.pieces.set(piece, bytes);
          }
          return bytes;
        })
        .finally(() => this.reading.delete(piece));
      this.reading.set(piece, p);
    }
    return p;
  }

  /** Record `n`, fixed up and parsed. */
  async record(n: number): Promise<MftRecord> {
    const raw = this.storedRecord(n) ?? (await this.loadRecord(n));
    return parseMftRecord(raw, n, this.clusters, await this.recordOffset(n));
  }

  /** Every attribute of a file: its base record's, and those its $ATTRIBUTE_LIST places in extension records. */
  async attributesOf(base: MftRecord): Promise<Attribute[]> {
    const list = base.attributes.find((a) => a.type === AT_ATTRIBUTE_LIST);
    if (!list) return base.attributes;
    const out = base.attributes.filter((a) => a.type !== AT_ATTRIBUTE_LIST);
    const entries = parseAttributeList(await this.attributeValue(list, `MFT record ${base.number}`), list.recordOffset);
    const records = new Set(entries.map((e) => e.record).filter((r) => r !== base.number));
    if (records.size > 4096)
      throw new FsError(
        "FS_CORRUPT",
        `an attribute list naming ${records.size} records`,
        "$ATTRIBUTE_LIST",
        list.recordOffset,
      );
    for (const r of records) {
      const ext = await this.record(r);
      if (ext.baseRecord !== base.number) continue;
      out.push(...ext.attributes);
    }
    return out;
  }
}
