/**
 * The project as a user gets it: `npm run build` in a copy of the project leaves both the web app
 * and a working `npx vhdx`; `npm pack` makes a package that, installed from its tarball into an
 * empty folder, is imported by its name (ES modules, its three entry points), reads an image QEMU
 * made as QEMU reads it, makes one QEMU checks clean, and type-checks for a TypeScript consumer
 * under Node's module resolution. Nothing here writes into the project itself.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { createQemuImage, expectedBytes, qemuCheck, qemuConvertToRaw, qemuIoWrite } from "../helpers/qemu";
import { runOk, type RunResult } from "../helpers/run";
import { useTempDir } from "../helpers/tmp";
import { missingTools } from "../helpers/tools";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MiB = 1024 * 1024;
/** What a build writes or a run leaves, and the dependencies (linked, not copied). */
const NOT_COPIED = new Set(["node_modules", "dist", ".git", "test-results", "playwright-report", ".tmp", ".tmprun"]);

/** A command run in `cwd` (npm and npx act on the folder they run in). */
function runIn(cwd: string, cmd: string, args: readonly string[]): RunResult {
  const env = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" };
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { exitCode: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function runInOk(cwd: string, cmd: string, args: readonly string[]): RunResult {
  const r = runIn(cwd, cmd, args);
  if (r.exitCode !== 0)
    throw new Error(`${cmd} ${args.join(" ")} in ${cwd} failed (${r.exitCode}):\n${r.stderr}${r.stdout}`);
  return r;
}

describe.skipIf(missingTools("qemu-img", "qemu-io"))("the built project and the packed library", () => {
  const tmp = useTempDir("vhdx-package-");
  const project = tmp.path("project");
  const scratch = tmp.path("scratch");
  let tarball = "";

  beforeAll(() => {
    cpSync(ROOT, project, {
      recursive: true,
      filter: (src) => {
        const rel = relative(ROOT, src);
        return rel === "" || !NOT_COPIED.has(rel.split(sep)[0]);
      },
    });
    symlinkSync(join(ROOT, "node_modules"), join(project, "node_modules"), "dir");
    runInOk(project, "npm", ["run", "--silent", "build"]);
    runInOk(project, "npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", tmp.dir]);
    tarball = join(
      tmp.dir,
      readdirSync(tmp.dir).find((f) => f.endsWith(".tgz"))!,
    );
    mkdirSync(scratch);
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
    // The package has no dependencies: the install needs nothing from a registry.
    runInOk(scratch, "npm", ["install", "--offline", "--no-audit", "--ignore-scripts", tarball]);
  }, 600_000);

  it("`npm run build` keeps the command: `npx vhdx --help` works afterwards, beside the web app", () => {
    expect(existsSync(join(project, "dist", "web", "index.html"))).toBe(true);
    expect(existsSync(join(project, "dist", "lib", "index.js"))).toBe(true);
    const r = runIn(project, "npx", ["--no-install", "vhdx", "--help"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: vhdx <command>/m);
    expect(r.stderr).toBe("");
  });

  it("the tarball holds the command and the library, not the sources or the web app", () => {
    const list = runOk("tar", ["-tzf", tarball]).stdout.split("\n").filter(Boolean);
    expect(list).toContain("package/bin/vhdx.cjs");
    expect(list).toContain("package/dist/cli/cli.cjs");
    expect(list).toContain("package/dist/lib/index.js");
    expect(list).toContain("package/dist/lib/types/lib/index.d.ts");
    expect(list.filter((f) => f.startsWith("package/src/") || f.startsWith("package/dist/web/"))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(scratch, "node_modules", "vhdx-studio", "package.json"), "utf8"));
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it("imported by name from a scratch folder, reads a QEMU-made image as QEMU does, and creates one QEMU checks clean", () => {
    const img = tmp.path("qemu.vhdx");
    createQemuImage({ path: img, sizeBytes: 64 * MiB, subformat: "dynamic", blockSizeMiB: 1 });
    const writes = [
      { offset: 3 * MiB + 512, length: 64 * 1024, seed: 7 },
      { offset: 40 * MiB, length: MiB, seed: 11 },
    ];
    qemuIoWrite(img, writes);
    const made = tmp.path("made.vhdx");
    const script = join(scratch, "use.mjs");
    writeFileSync(
      script,
      `import { openImage, createImage, checkImage, logReport, imageInfo, VhdxError } from "vhdx-studio";
       import { NodeFileBackend } from "vhdx-studio/node";
       import { MemoryDevice, FsError } from "vhdx-studio/fs";
       const [img, made, ...ranges] = process.argv.slice(2);
       const file = await NodeFileBackend.open(img);
       const image = await openImage(file);
       const reads = [];
       for (let i = 0; i < ranges.length; i += 2) {
         const bytes = await image.read(Number(ranges[i]), Number(ranges[i + 1]));
         reads.push(Buffer.from(bytes).toString("hex"));
       }
       const info = imageInfo(image);
       const log = await logReport(image);
       const check = await checkImage(file);
       await image.close();
       const out = await NodeFileBackend.open(made, { create: "exclusive" });
       await createImage(out, { type: "dynamic", virtualSize: 32 * 1024 * 1024 });
       await out.close();
       const device = new MemoryDevice(new Uint8Array(16));
       let refused = "";
       try { await device.read(8, 16); } catch (e) { refused = e instanceof FsError ? e.code : "other"; }
       console.log(JSON.stringify({
         virtualSize: info.virtualSize, reads, needsReplay: log.needsReplay, ok: check.ok,
         errorClass: typeof VhdxError, refused,
       }));`,
    );
    const ranges = writes.flatMap((w) => [w.offset - 512, w.length + 1024]);
    const r = runIn(scratch, process.execPath, [script, img, made, ...ranges.map(String)]);
    expect(r.exitCode, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as {
      virtualSize: number;
      reads: string[];
      needsReplay: boolean;
      ok: boolean;
      errorClass: string;
      refused: string;
    };
    const qemu = qemuConvertToRaw(img);
    expect(got.virtualSize).toBe(64 * MiB);
    writes.forEach((w, i) => {
      const want = qemu.subarray(w.offset - 512, w.offset + w.length + 512);
      expect(Buffer.from(expectedBytes(w)).equals(want.subarray(512, 512 + w.length))).toBe(true);
      expect(got.reads[i] === want.toString("hex")).toBe(true);
    });
    expect(got).toMatchObject({ needsReplay: false, ok: true, errorClass: "function", refused: "FS_OUT_OF_RANGE" });
    const c = qemuCheck(made);
    expect(c.exitCode, c.stdout + c.stderr).toBe(0);
    expect(qemuConvertToRaw(made).length).toBe(32 * MiB);
  });

  it("the installed package's `vhdx` command runs", () => {
    const r = runIn(scratch, "npx", ["--no-install", "vhdx", "--version"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^vhdx \d+\.\d+\.\d+\n$/);
  });

  it("its declarations type-check a TypeScript consumer under Node's module resolution", () => {
    writeFileSync(
      join(scratch, "use.ts"),
      `import { openImage, checkImage, type CheckReport, type VhdxImage } from "vhdx-studio";
       import { NodeFileBackend } from "vhdx-studio/node";
       import type { BlockDevice } from "vhdx-studio/fs";
       export async function sizeOf(path: string): Promise<number> {
         const image: VhdxImage = await openImage(await NodeFileBackend.open(path));
         const report: CheckReport = await checkImage(image.file);
         const device: BlockDevice = { size: image.virtualSize, read: (o, n) => image.read(o, n) };
         return report.ok ? device.size : -1;
       }
       // @ts-expect-error: the engine's options are typed
       void openImage(null, { readOnly: "yes" });
      `,
    );
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules", "@types")],
        },
        files: ["use.ts"],
      }),
    );
    const r = runIn(scratch, process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", scratch]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });
});
