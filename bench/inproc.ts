// In-process measurements for `npm run bench` (bundled by scripts/bench.mjs into dist/bench-inproc.mjs
// and started as its own process, so the engine runs exactly as the CLI bundle runs it):
//   random-reads <image> <ms>           random 4 KiB reads, one at a time, for about <ms> milliseconds
//   patch-commits <image> <count>       one-sector atomic patch commits, with the flushes each costs
//   find-count <image> <hex pattern>    Find over the whole virtual disk, counting non-overlapping matches
// Each prints one JSON object on stdout.
import { randomBytes } from "node:crypto";
import { NodeFileBackend } from "../src/node/fileBackend";
import { parseQuery } from "../src/find/pattern";
import { countMatches } from "../src/find/scan";
import { virtualSource } from "../src/find/sources";
import { openImage } from "../src/vhdx/image";
import { RandomAccess } from "../src/vhdx/io";
import { commitPatch } from "../src/vhdx/patch";
import { VhdxWriter } from "../src/vhdx/write";
import { PAYLOAD_BLOCK_FULLY_PRESENT, payloadEntryIndex } from "../src/vhdx/bat";

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

/** Find's whole-disk search (src/find), as the worker runs it, counting what it finds. */
async function findCount(path: string, hexPattern: string): Promise<object> {
  const img = await openImage(await NodeFileBackend.open(path, { readOnly: true }));
  try {
    const parsed = parseQuery({ encoding: "hex", text: hexPattern });
    if (!parsed.ok) throw new Error(parsed.error);
    const t0 = performance.now();
    const count = await countMatches(virtualSource(img, img.blockSize), parsed.pattern);
    return { count, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await img.close();
  }
}

const [cmd, a, b] = process.argv.slice(2);
let result: object;
if (cmd === "random-reads") result = await randomReads(a, Number(b));
else if (cmd === "patch-commits") result = await patchCommits(a, Number(b));
else if (cmd === "find-count") result = await findCount(a, b);
else throw new Error(`unknown measurement ${cmd}`);
process.stdout.write(JSON.stringify(result) + "\n");
