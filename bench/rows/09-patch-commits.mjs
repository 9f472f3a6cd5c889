// In-process (no QEMU peer): one-sector atomic patch commits (copy-on-write of the 8 MiB block,
// then one log entry switching its BAT entry) into present blocks of a copy of the 1 GiB image,
// after the session's header updates. Budget (issue 4): at most 3 flushes per commit.
import { copyFileSync, rmSync } from "node:fs";
import { inproc, median } from "../lib.mjs";

const COMMITS = 50;

export default {
  id: "patch-commits",
  title: "one-sector patch commits (in-process)",
  async setup(inputs) {
    const img = await inputs.dynamic1GiBHalf();
    return { src: img.path, work: inputs.path("patch-work.vhdx") };
  },
  measure(c, { runs }) {
    const reports = [];
    for (let i = 0; i < runs; i++) {
      copyFileSync(c.src, c.work);
      try {
        reports.push(inproc("patch-commits", c.work, COMMITS));
      } finally {
        rmSync(c.work, { force: true });
      }
    }
    const flushes = Math.max(...reports.map((r) => r.flushesPerCommit));
    return {
      ours: `${median(reports.map((r) => r.commitsPerSecond)).toFixed(1)} commits/s, ${flushes} flushes/commit`,
      commitsPerSecond: reports.map((r) => r.commitsPerSecond),
      flushesPerCommit: flushes,
      writesPerCommit: Math.max(...reports.map((r) => r.writesPerCommit)),
      note: `${COMMITS} commits per run, 8 MiB block copied each`,
      met: flushes <= 3,
    };
  },
  budget: { text: "≤ 3 flushes per commit" },
};
