// The convert row (05) on the same 1 GiB disk with its zero blocks written out as zeros (a disk
// copied with dd): both sides must read all of it.
import { convertRow } from "./05-convert-raw-1g.mjs";

export default convertRow({
  id: "convert-raw-1g-dense",
  title: "convert raw → dynamic VHDX, 1 GiB, half zero (written)",
  raw: async (inputs) => (await inputs.raw1GiBHalfDense()).raw,
});
