/**
 * The rows of a commit's cost, shared by the hex Commit and "Write file…": what the engine will
 * write (one log entry switches it all) and, on a user's own file, what the browser copies.
 */
import { formatCount, formatSize } from "../lib/format";
import type { PatchCost, StorageCommitCost } from "../store/engineApi";

export function PatchCostRows({ cost }: { cost: PatchCost }) {
  return (
    <>
      <dt>Blocks copied on write</dt>
      <dd>{cost.blocksCopied}</dd>
      <dt>New payload blocks</dt>
      <dd>{cost.blocksAllocated}</dd>
      {cost.bitmapBlocksAllocated > 0 && (
        <>
          <dt>New sector bitmap blocks</dt>
          <dd>{cost.bitmapBlocksAllocated}</dd>
        </>
      )}
      <dt>Bytes written to the file</dt>
      <dd>
        {formatSize(cost.bytesWritten)} ({formatCount(cost.bytesWritten)})
      </dd>
      <dt>Log sectors (one log entry)</dt>
      <dd>{cost.logSectors}</dd>
      <dt>Flushes</dt>
      <dd>{cost.flushes}</dd>
    </>
  );
}

export function StorageCostRows({ storage }: { storage: StorageCommitCost }) {
  return (
    <>
      <dt>Bytes the browser copies</dt>
      <dd>
        {formatSize(storage.bytesCopied)} ({storage.writables} writable
        {storage.estimatedMs !== null ? `, about ${(storage.estimatedMs / 1000).toFixed(1)} s` : ""})
      </dd>
    </>
  );
}
