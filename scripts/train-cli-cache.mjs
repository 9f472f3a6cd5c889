// Makes dist/cli/cli.cache, V8's code cache for the bundled command (see bin/load-cli.cjs): compiles
// dist/cli/cli.cjs, runs the common commands once in this process on small files in a temp folder
// (create, write, info, map, check, log, replay, cat, convert each way, a differencing child and
// its merge), then saves the code V8 compiled for them. Any command failing fails the build.
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLE, buildId, CODE_CACHE, loadCli } from "../bin/load-cli.cjs";

const MiB = 1024 * 1024;
const { main, script } = loadCli({ useCache: false });
const dir = mkdtempSync(join(tmpdir(), "vhdx-cache-"));
const p = (name) => join(dir, name);
const quiet = { out() {}, outBytes: async () => {} };

try {
  const data = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + 1) & 0xff);
  writeFileSync(p("data.bin"), data);
  // A 16 MiB raw disk: data in its first and ninth MiB, holes elsewhere.
  const fd = openSync(p("disk.raw"), "w");
  ftruncateSync(fd, 16 * MiB);
  writeSync(fd, data, 0, data.length, 0);
  writeSync(fd, data, 0, data.length, 8 * MiB);
  closeSync(fd);
  const runs = [
    ["create", p("a.vhdx"), "--size", "64M", "--block-size", "1M"],
    ["write", p("a.vhdx"), "--offset", "1M", "--input", p("data.bin")],
    ["info", p("a.vhdx")],
    ["map", p("a.vhdx")],
    ["check", p("a.vhdx")],
    ["log", p("a.vhdx")],
    ["replay", p("a.vhdx")],
    ["cat", p("a.vhdx")],
    ["convert", p("disk.raw"), p("b.vhdx")],
    ["convert", p("disk.raw"), p("c.vhdx"), "--type", "fixed"],
    ["convert", p("b.vhdx"), p("b.raw")],
    ["create", p("child.vhdx"), "--size", "64M", "--type", "differencing", "--parent", p("a.vhdx")],
    ["write", p("child.vhdx"), "--offset", "0", "--input", p("data.bin")],
    ["cat", p("child.vhdx")],
    ["merge", p("child.vhdx")],
  ];
  for (const argv of runs) {
    const code = await main(argv, quiet);
    if (code !== 0) throw new Error(`vhdx ${argv.join(" ")} exited ${code} while making the code cache`);
  }
  const tmp = `${CODE_CACHE}.${process.pid}`;
  const id = buildId(readFileSync(BUNDLE, "utf8"));
  if (!id) throw new Error(`${BUNDLE} has no build id on its first line`);
  writeFileSync(tmp, Buffer.concat([Buffer.from(`${id}\n`, "latin1"), script.createCachedData()]));
  renameSync(tmp, CODE_CACHE);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
