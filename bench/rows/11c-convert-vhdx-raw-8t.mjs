// The VHDX → raw row (11) on an empty 8 TiB dynamic image. qemu-img 7.2 spends minutes of CPU on it
// (no system calls: it walks the empty disk in small steps), so QEMU's side runs once, stopped at
// 60 s, and the ratio shown is an upper bound; ours runs 3 times.
import { toRawRow } from "./11-convert-vhdx-raw-1g.mjs";

export default toRawRow({
  id: "convert-vhdx-raw-8t",
  title: "convert dynamic VHDX → raw, 8 TiB, empty",
  input: (inputs) => inputs.dynamic8TiBEmpty(),
  runs: 3,
  warmUp: false,
  theirsTimeoutMs: 60_000,
});
