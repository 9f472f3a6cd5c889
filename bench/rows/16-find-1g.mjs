// Find: our whole-disk search of the 1 GiB half-written dynamic image (8 MiB blocks,
// random bytes in every other block) for a 3-byte pattern, in one process (the bundled engine, as
// the worker runs it), against `vhdx cat img | grep -a -c -P` on the same bytes. Before any timing
// both must count the same matches: the pattern holds no newline, and random data puts its ~30
// matches on lines of their own, so grep's line count is the match count. Our search never reads
// the zero blocks; cat writes them out and grep reads them.
import { join } from "node:path";
import { ROOT, run, vhdx } from "../lib.mjs";

const PATTERN = "c0 ff ee";
const GREP = "\\xc0\\xff\\xee";

function pipeline(img) {
  const cat = vhdx("cat", img.path);
  const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  return { cmd: "sh", args: ["-c", `${[cat.cmd, ...cat.args].map(q).join(" ")} | LC_ALL=C grep -a -c -P ${q(GREP)}`] };
}

const ours = (img) => ({
  cmd: process.execPath,
  args: [join(ROOT, "dist", "bench-inproc.mjs"), "find-count", img.path, PATTERN],
});

export default {
  id: "find-1g",
  title: "Find a 3-byte pattern, 1 GiB dynamic, half written",
  async setup(inputs) {
    return inputs.dynamic1GiBHalf();
  },
  verify(img) {
    const p = ours(img);
    const mine = JSON.parse(run(p.cmd, p.args)).count;
    const g = pipeline(img);
    const theirs = Number(run(g.cmd, g.args).trim());
    if (mine !== theirs) throw new Error(`Find counted ${mine} matches, vhdx cat | grep -c ${theirs}`);
    if (mine === 0) throw new Error("the pattern never occurs: the counts prove nothing");
    img.matches = mine;
  },
  ours,
  theirs: pipeline,
  note: (img) => `${img.matches} matches both sides; peer: vhdx cat piped to grep -a -c -P`,
  budget: { maxRatio: 1.0, text: "ours ≤ cat piped to grep" },
};
