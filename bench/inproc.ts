// In-process measurements for `npm run bench` (bundled by scripts/bench.mjs into dist/bench-inproc.mjs
// and started as its own process, so the engine runs exactly as the CLI bundle runs it):
//   dirty-log <clean.vhdx> <out.vhdx>   writes a copy whose 1 MiB log is full and still to be replayed
//   random-reads <image> <ms>           random 4 KiB reads, one at a time, for about <ms> milliseconds
//   patch-commits <image> <count>       one-sector atomic patch commits, with the flushes each costs
// Each prints one JSON object on stdout.
import { copyFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { NodeFileBackend } from "../src/node/fileBackend";
import { openImage } from "../src/vhdx/image";
import { RandomAccess } from "../src/vhdx/io";
import {
  HeaderUpdater,
  LogUpdate,
  serializeLogEntry,
  LOG_SECTOR_SIZE,
  DESCRIPTORS_IN_FIRST_SECTOR,
} from "../src/vhdx/log";
import { newGuid } from "../src/vhdx/guid";
import { commitPatch } from "../src/vhdx/patch";
import { VhdxWriter } from "../src/vhdx/write";
import { PAYLOAD_BLOCK_FULLY_PRESENT, payloadEntryIndex } from "../src/vhdx/bat";

const MiB = 1024 * 1024;

/** Counts what reaches the file: every write and flush, to check the flush budget of a commit. */
class CountingBackend implements RandomAccess {
  writes = 0;
  flushes = 0;
  constructor(private readonly inner: RandomAccess) {}
  get readOnly(): boolean {
    return this.inner.readOnly;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(offset, length);
  }
  write(offset: number, data: Uint8Array): Promise<void> {
    this.writes++;
    return this.inner.write(offset, data);
  }
  flush(): Promise<void> {
    this.flushes++;
    return this.inner.flush();
  }
  size(): Promise<number> {
    return this.inner.size();
  }
  truncate(size: number): Promise<void> {
    return this.inner.truncate(size);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * A dirty image whose log is nearly full: two entries of one active sequence, 127 sectors each
 * (254 of the ring's 256), each within one descriptor sector as QEMU 7.2 requires. (A ring filled
 * to the last sector is legal, but QEMU 7.2 then replays only the head entry.) Their 252 data sectors are random bytes for fresh space past the end of the file (no structure is
 * touched, so any replay must give the same file). The header then names the log (LogGuid), as it
 * would after a crash right after the last entry was flushed and before it was applied.
 */
async function dirtyLog(src: string, out: string): Promise<object> {
  copyFileSync(src, out);
  const file = await NodeFileBackend.open(out, { readOnly: false });
  try {
    const updater = await HeaderUpdater.load(file);
    const { logOffset, logLength } = updater.current;
    if (logLength !== MiB) throw new Error(`expected a 1 MiB log, found ${logLength} bytes`);
    const size = await file.size();
    const base = Math.ceil(size / MiB) * MiB;
    const logGuid = newGuid();
    const sizes = [DESCRIPTORS_IN_FIRST_SECTOR, DESCRIPTORS_IN_FIRST_SECTOR];
    let position = 0;
    let target = base;
    let seq = 1n;
    for (const n of sizes) {
      const updates: LogUpdate[] = [];
      for (let i = 0; i < n; i++, target += LOG_SECTOR_SIZE) {
        updates.push({ kind: "data", fileOffset: target, data: new Uint8Array(randomBytes(LOG_SECTOR_SIZE)) });
      }
      const entry = serializeLogEntry({
        tail: 0,
        sequenceNumber: seq++,
        logGuid,
        flushedFileOffset: Math.floor(size / MiB) * MiB,
        lastFileOffset: Math.ceil(target / MiB) * MiB,
        updates,
      });
      await file.write(logOffset + position, entry);
      position += entry.length;
    }
    if (position > logLength) throw new Error(`the entries fill ${position} of ${logLength} log bytes`);
    await file.flush();
    await updater.update({ logGuid });
    return { entries: sizes.length, logBytes: position, dataSectors: (target - base) / LOG_SECTOR_SIZE };
  } finally {
    await file.close();
  }
}

async function randomReads(path: string, ms: number): Promise<object> {
  const file = await NodeFileBackend.open(path, { readOnly: true });
  const img = await openImage(file);
  try {
    const sectors = Math.floor(img.virtualSize / 4096);
    let reads = 0;
    let allocated = 0;
    const t0 = performance.now();
    let t = t0;
    // Checked every 256 reads so the clock costs nothing measurable.
    while (t - t0 < ms) {
      for (let i = 0; i < 256; i++) {
        const off = Math.floor(Math.random() * sectors) * 4096;
        const bytes = await img.read(off, 4096);
        if (bytes[0] !== 0 || bytes[4095] !== 0) allocated++;
        reads++;
      }
      t = performance.now();
    }
    return { reads, seconds: (t - t0) / 1000, readsPerSecond: reads / ((t - t0) / 1000), nonZeroReads: allocated };
  } finally {
    await img.close();
  }
}

async function patchCommits(path: string, count: number): Promise<object> {
  const file = new CountingBackend(await NodeFileBackend.open(path, { readOnly: false }));
  const img = await openImage(file, { readOnly: false });
  const writer = new VhdxWriter(img);
  try {
    const bs = img.blockSize;
    const present: number[] = [];
    for (let b = 0; b < Math.ceil(img.virtualSize / bs); b++) {
      if (img.bat.state(payloadEntryIndex(img.geometry, b)) === PAYLOAD_BLOCK_FULLY_PRESENT) present.push(b);
    }
    if (present.length === 0) throw new Error("the image has no present block to patch");
    const sector = img.params.logicalSectorSize;
    const edit = () => {
      const b = present[Math.floor(Math.random() * present.length)];
      const off = b * bs + Math.floor((Math.random() * bs) / sector) * sector;
      return [{ offset: off, data: new Uint8Array(randomBytes(sector)) }];
    };
    // The session's header updates (FileWriteGuid, DataWriteGuid, LogGuid) come with the first commit.
    await commitPatch(writer, edit());
    const f0 = file.flushes;
    const w0 = file.writes;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await commitPatch(writer, edit());
    const seconds = (performance.now() - t0) / 1000;
    return {
      commits: count,
      seconds,
      commitsPerSecond: count / seconds,
      flushesPerCommit: (file.flushes - f0) / count,
      writesPerCommit: (file.writes - w0) / count,
      blockSize: bs,
    };
  } finally {
    await writer.close();
  }
}

const [cmd, a, b] = process.argv.slice(2);
let result: object;
if (cmd === "dirty-log") result = await dirtyLog(a, b);
else if (cmd === "random-reads") result = await randomReads(a, Number(b));
else if (cmd === "patch-commits") result = await patchCommits(a, Number(b));
else throw new Error(`unknown measurement ${cmd}`);
process.stdout.write(JSON.stringify(result) + "\n");
