// The VHDX → raw row (11) on a 64 GiB dynamic image with 1 GiB written in 32 blocks spread over it:
// the time must follow the data present, not the virtual size.
import { toRawRow } from "./11-convert-vhdx-raw-1g.mjs";

export default toRawRow({
  id: "convert-vhdx-raw-64g",
  title: "convert dynamic VHDX → raw, 64 GiB, 1 GiB written",
  input: (inputs) => inputs.dynamic64GiB1GiB(),
});
