// Memory of the command on the largest log the format allows: `vhdx info`, `vhdx log` and
// `vhdx check` on an image whose log is 4095 MiB (LogLength is a u32 multiple of 1 MiB), clean,
// peak resident memory by GNU time. Budget: well under the log's size — the log is read through a
// 1 MiB window, never whole (a 2 GiB read aborted Node before).
import { spawnSync } from "node:child_process";
import { median, run, vhdx } from "../lib.mjs";

function peakRssKiB(cmd) {
  const r = spawnSync("/usr/bin/time", ["-v", cmd.cmd, ...cmd.args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd.args.join(" ")} exited ${r.status}: ${r.stderr.slice(-400)}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!m) throw new Error("GNU time printed no peak RSS");
  return Number(m[1]);
}

export default {
  id: "big-log-memory",
  title: "peak RSS, 4095 MiB log",
  setup(inputs) {
    const image = inputs.path("log-4095m.vhdx");
    const c = vhdx("create", image, "--size", "1G", "--log-size", "4095M");
    run(c.cmd, c.args);
    return { image };
  },
  async measure(ctx, { runs }) {
    const rows = [];
    for (const command of ["info", "log", "check"]) {
      const kib = [];
      for (let i = 0; i < runs; i++) kib.push(peakRssKiB(vhdx(command, ctx.image)));
      const mib = median(kib) / 1024;
      rows.push({
        id: `big-log-memory-${command}`,
        title: `vhdx ${command}, 4095 MiB log: peak RSS`,
        ours: `${mib.toFixed(0)} MiB`,
        values: kib,
        note: "GNU time -v, whole process",
        budget: "< 200 MiB",
        met: mib < 200,
      });
    }
    return rows;
  },
  budget: null,
};
