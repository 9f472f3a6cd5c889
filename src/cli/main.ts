import { FsError } from "../fs/errors";
import { VhdxError } from "../vhdx/errors";
import { parseArgs, UsageError, type ParsedArgs } from "./args";
import type { Io } from "./commands";
import * as F from "./flags";
import { COMMAND_HELP, MAIN_HELP } from "./help";

type Run = (a: ParsedArgs, io: Io) => Promise<number>;
type Command = {
  flags: F.FlagSpec;
  /** The command's modules run only when it does: `vhdx --version` or `vhdx info` never set up the writer. */
  load: () => Promise<Run>;
};

const COMMANDS: Record<string, Command> = {
  info: { flags: F.INFO_FLAGS, load: async () => (await import("./commands")).infoCommand },
  cat: { flags: F.CAT_FLAGS, load: async () => (await import("./commands")).catCommand },
  map: { flags: F.MAP_FLAGS, load: async () => (await import("./commands")).mapCommand },
  check: { flags: F.CHECK_FLAGS, load: async () => (await import("./cmd-check")).checkCommand },
  log: { flags: F.LOG_FLAGS, load: async () => (await import("./cmd-log")).logCommand },
  replay: { flags: F.REPLAY_FLAGS, load: async () => (await import("./cmd-log")).replayCommand },
  create: { flags: F.CREATE_FLAGS, load: async () => (await import("./cmd-create")).createCommand },
  write: { flags: F.WRITE_FLAGS, load: async () => (await import("./cmd-write")).writeCommand },
  convert: { flags: F.CONVERT_FLAGS, load: async () => (await import("./cmd-convert")).convertCommand },
  merge: { flags: F.MERGE_FLAGS, load: async () => (await import("./cmd-merge")).mergeCommand },
  partitions: { flags: F.PARTITIONS_FLAGS, load: async () => (await import("./cmd-fs")).partitionsCommand },
  ls: { flags: F.LS_FLAGS, load: async () => (await import("./cmd-fs")).lsCommand },
  get: { flags: F.GET_FLAGS, load: async () => (await import("./cmd-fs")).getCommand },
  resize: { flags: F.RESIZE_FLAGS, load: async () => (await import("./cmd-resize")).resizeCommand },
  report: { flags: F.REPORT_FLAGS, load: async () => (await import("./cmd-report")).reportCommand },
};

/**
 * Commands that lock the files they open (see fileLock.ts): their lock helper starts with them,
 * so its start overlaps the command's own rather than waiting at the first lock.
 */
const LOCKING = new Set([
  "info",
  "cat",
  "map",
  "check",
  "log",
  "replay",
  "create",
  "write",
  "convert",
  "merge",
  "resize",
]);

// A closed pipe (`vhdx cat img | head`) ends the output quietly, as other Unix tools do.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const stdio: Io = {
  out: (s) => void process.stdout.write(s),
  outBytes: (b) =>
    new Promise<void>((resolve, reject) => {
      process.stdout.write(b, (err) => (err ? reject(err) : resolve()));
    }),
};

/** Runs the `vhdx` command; returns the exit code (0 ok, 1 bad input, 2 usage). */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(MAIN_HELP);
    return name ? 0 : 2;
  }
  if (name === "--version") {
    io.out("vhdx 0.1.0\n");
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`vhdx: unknown command ${JSON.stringify(name)}; see vhdx --help\n`);
    return 2;
  }
  let file = "";
  try {
    const a = parseArgs(rest, cmd.flags);
    if (a.flags.has("help")) {
      io.out(COMMAND_HELP[name]);
      return 0;
    }
    file = a.positionals[0] ?? "";
    const [run] = await Promise.all([
      cmd.load(),
      LOCKING.has(name) && import("../node/fileLock").then((m) => m.startLockHelper()),
    ]);
    return await run(a, io);
  } catch (e) {
    return report(e, name, file);
  }
}

function report(e: unknown, command: string, file: string): number {
  if (process.env.VHDX_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  const where = file ? `${file}: ` : "";
  if (e instanceof UsageError) {
    process.stderr.write(`vhdx ${command}: ${e.message}\n`);
    return 2;
  }
  if (e instanceof VhdxError || e instanceof FsError) {
    process.stderr.write(`vhdx: ${where}${e.describe()}\n`);
    return 1;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === "string") {
    if (err.code === "EPIPE") return 0;
    const why: Record<string, string> = {
      ENOENT: "no such file",
      EACCES: "permission denied",
      EISDIR: "is a directory",
    };
    process.stderr.write(`vhdx: ${where}${why[err.code] ?? err.message}\n`);
    return 1;
  }
  process.stderr.write(
    `vhdx: ${where}internal error: ${(e as Error)?.message ?? String(e)} (set VHDX_DEBUG=1 for details)\n`,
  );
  return 1;
}
