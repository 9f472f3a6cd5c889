/** `node dist/cli/make-sample.mjs <path>`: writes the editor's sample image (see makeSample.ts). */
import { makeSample } from "./makeSample";

const target = process.argv[2];
if (!target) {
  process.stderr.write("usage: make-sample <path>\n");
  process.exit(2);
}
await makeSample(target);
process.stdout.write(`sample written to ${target}\n`);
