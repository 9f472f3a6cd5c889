// In-process (no QEMU peer): random 4 KiB reads, one at a time, over the 1 GiB half-written image
// (half land in written blocks, half in unallocated ones). The median of the runs, in reads per second.
import { inproc, median } from "../lib.mjs";

export default {
  id: "random-reads",
  title: "random 4 KiB reads, 1 GiB image (in-process)",
  async setup(inputs) {
    return inputs.dynamic1GiBHalf();
  },
  measure(img, { runs }) {
    const reports = [];
    for (let i = 0; i < runs; i++) reports.push(inproc("random-reads", img.path, 1000));
    const rates = reports.map((r) => r.readsPerSecond);
    const nonZero = reports.reduce((n, r) => n + r.nonZeroReads, 0) / reports.reduce((n, r) => n + r.reads, 0);
    return {
      ours: `${Math.round(median(rates)).toLocaleString("en-US")} reads/s`,
      readsPerSecond: rates,
      note: `${(nonZero * 100).toFixed(0)} % of reads hit written blocks`,
      met: null,
    };
  },
  budget: null,
};
