import { VhdxError } from "../errors";
import { Guid, isZeroGuid, newGuid } from "../guid";
import { checkHeaderSlot, chooseCurrentHeader, Header, HEADER_OFFSETS, HEADER_SIZE, serializeHeader } from "../header";
import { RandomAccess } from "../io";

/** Header fields a caller may change; the rest are managed by the update protocol. */
export type HeaderChanges = Partial<
  Pick<Header, "logGuid" | "dataWriteGuid" | "logOffset" | "logLength" | "logVersion">
>;

export interface HeaderUpdateOptions {
  /** Give DataWriteGuid a fresh value (before the first user-visible change of a session). */
  newDataWriteGuid?: boolean;
  /** Give LogGuid a fresh non-zero value (before the log region is overwritten). */
  newLogGuid?: boolean;
  /**
   * Write the non-current slot only, skipping the recommended second pass (§2.2.2.1 "SHOULD
   * perform the update procedure a second time"): for an update that another one follows before
   * the session's work is done, which then brings both slots up to date. Saves a write and a flush.
   */
  onePass?: boolean;
}

/**
 * §2.2.2.1 Updating the headers. Knows both header slots; each update writes the non-current
 * slot with SequenceNumber + 1 and flushes, then (as the spec recommends) does the same again
 * so both slots hold the new fields. Writes only at 64 KiB and 128 KiB, never the first 64 KiB.
 */
export class HeaderUpdater {
  readonly io: RandomAccess;
  private cur: Header;
  private curIndex: 0 | 1;
  private fileWriteGuidRenewed = false;
  private dataWriteGuidRenewed = false;
  private logGuidRenewed = false;

  constructor(io: RandomAccess, current: Header, currentIndex: 0 | 1) {
    this.io = io;
    this.cur = current;
    this.curIndex = currentIndex;
  }

  /** Reads and judges both slots (§2.2.2) and starts from the current one. */
  static async load(io: RandomAccess): Promise<HeaderUpdater> {
    const bytes = await Promise.all(HEADER_OFFSETS.map((o) => io.read(o, HEADER_SIZE)));
    const judged = [checkHeaderSlot(bytes[0], 0), checkHeaderSlot(bytes[1], 1)];
    const index = chooseCurrentHeader(judged);
    if (index < 0)
      throw new VhdxError(
        "NO_VALID_HEADER",
        "neither header is valid, so there is no current header",
        "header",
        HEADER_OFFSETS[0],
      );
    return new HeaderUpdater(io, judged[index].header!, index as 0 | 1);
  }

  get current(): Header {
    return this.cur;
  }

  get currentIndex(): 0 | 1 {
    return this.curIndex;
  }

  /** True once this session has written the headers (and so renewed FileWriteGuid). */
  get started(): boolean {
    return this.fileWriteGuidRenewed;
  }

  /**
   * Applies `changes` through the two-step protocol and returns the new current header.
   * The first update of a session always carries a fresh FileWriteGuid (§2.2.2 FileWriteGuid).
   */
  async update(changes: HeaderChanges = {}, opts: HeaderUpdateOptions = {}): Promise<Header> {
    if (this.io.readOnly)
      throw new VhdxError("READ_ONLY", "the headers cannot be updated: the file is open read-only", "header");
    const next: Header = { ...this.cur, ...changes };
    if (!this.fileWriteGuidRenewed) next.fileWriteGuid = newGuid();
    if (opts.newDataWriteGuid) next.dataWriteGuid = newGuid();
    if (opts.newLogGuid) next.logGuid = newGuid();
    // Steps 1–5, then the recommended second pass so both slots agree.
    await this.writeSlot(next);
    if (!opts.onePass) await this.writeSlot(next);
    this.fileWriteGuidRenewed = true;
    if (opts.newDataWriteGuid) this.dataWriteGuidRenewed = true;
    if (opts.newLogGuid) this.logGuidRenewed = true;
    return this.cur;
  }

  /** Before the first modification of the file in this session: a header update with a fresh FileWriteGuid. */
  async beginFileWrite(opts: Pick<HeaderUpdateOptions, "onePass"> = {}): Promise<void> {
    if (!this.fileWriteGuidRenewed) await this.update({}, opts);
  }

  /**
   * Before the first user-visible change in this session: a fresh DataWriteGuid (§2.2.2
   * DataWriteGuid). `guid` chooses the new value (a merge announces it to the child first).
   */
  async beginDataWrite(guid?: Guid): Promise<void> {
    if (this.dataWriteGuidRenewed) return;
    if (guid) {
      await this.update({ dataWriteGuid: guid });
      this.dataWriteGuidRenewed = true;
    } else await this.update({}, { newDataWriteGuid: true });
  }

  /**
   * Before the log region is overwritten: a fresh non-zero LogGuid (§2.2.2 LogGuid), once per
   * session, or again when the log was marked empty since. Returns the LogGuid to write entries with.
   */
  async beginLogWrite(): Promise<Guid> {
    if (!this.logGuidRenewed || isZeroGuid(this.cur.logGuid)) await this.update({}, { newLogGuid: true });
    return this.cur.logGuid;
  }

  /** §2.2.2.1 steps 2–5 for one slot: SequenceNumber + 1, checksum, overwrite the non-current slot, flush. */
  private async writeSlot(fields: Header): Promise<void> {
    const target: 0 | 1 = this.curIndex === 0 ? 1 : 0;
    const h: Header = { ...fields, sequenceNumber: this.cur.sequenceNumber + 1n };
    const bytes = serializeHeader(h);
    const offset = HEADER_OFFSETS[target];
    // §2.2.1: the first 64 KiB are never written after creation.
    if (offset < 64 * 1024) throw new Error("header slot offset inside the file identifier");
    await this.io.write(offset, bytes);
    await this.io.flush();
    this.cur = { ...h, signature: "head", checksum: new DataView(bytes.buffer).getUint32(4, true) };
    this.curIndex = target;
  }
}
