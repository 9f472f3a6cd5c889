/**
 * One writer at a time, across programs: the byte-range locks QEMU takes on an image, taken the
 * same way, so a `vhdx` command and a running qemu-img / qemu-io / VM refuse each other.
 *
 * What QEMU does (measured with strace on qemu-io 7.2, writer and `-r` reader, and qemu-img info):
 * it takes shared (F_RDLCK) Linux open-file-description locks (F_OFD_SETLK) of one byte each;
 * byte 100 + n says "I use permission n", byte 200 + n says "I let nobody else have permission n",
 * with n = 0 consistent read, 1 write, 3 resize. After taking its bytes it asks (F_OFD_GETLK with
 * F_WRLCK) whether anyone else holds the bytes that would conflict, and gives up if so:
 *
 *   writer: holds 100 101 103 201 203, tests 200 201 203 101 103
 *   reader: holds 100         201 203, tests 200         101 103
 *
 * Node has no fcntl. A `perl` process (perl-base is an essential package on Debian and Ubuntu,
 * and ships with most Unix systems) takes or tests the bytes on the image's own open file
 * description. An OFD lock belongs to the description, not to the process that took it: it stays
 * when perl lets go of its copy of the descriptor, and goes when this process closes the file or
 * dies, as QEMU's do. Within this process one description per file carries the locks (a second
 * open of the same file, as merge does, rides on it), because QEMU's test cannot tell our own
 * descriptions from a stranger's.
 *
 * One perl serves the whole command: started when the command starts (startLockHelper), alongside
 * Node's own work, it is told a descriptor number per request, takes a copy of that descriptor
 * out of this process (pidfd_getfd, Linux 5.6), works on it and closes its copy before it answers.
 * Where the kernel refuses that (older kernels; Yama's ptrace restrictions, as on Ubuntu, forbid a
 * child to reach into its parent), each request runs its own short perl with the descriptor
 * handed over as its fd 3 at start.
 *
 * Where the kernel or perl cannot do it (not Linux, a 32-bit build, no perl), nothing is locked
 * and `lockUnavailable()` says why.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import type { FileHandle } from "node:fs/promises";
import { VhdxError } from "../vhdx/errors";
import { lockHolders } from "./lockHolders";

export type LockMode = "shared" | "exclusive";

const PLAN: Record<LockMode, { hold: number[]; test: number[] }> = {
  shared: { hold: [100, 201, 203], test: [200, 101, 103] },
  exclusive: { hold: [100, 101, 103, 201, 203], test: [200, 201, 203, 101, 103] },
};
/** What an exclusive holder has beyond a shared one. */
const WRITE_ONLY_BYTES = [101, 103];

/**
 * Operations are "set:B,…" (take F_RDLCK), "unset:B,…" and "test:B,…" (F_OFD_GETLK with F_WRLCK);
 * each request is answered "ok", or "busy B" for the first tested byte someone else holds, or
 * "error …". Run as `perl -e HELPER serve <pid>`, it reads requests "<fd> <op> <op>…" on stdin,
 * one per line, and answers "nofd …" where it cannot copy descriptor <fd> out of process <pid>;
 * run as `perl -e HELPER <op>…`, it works on its own fd 3 once. struct flock on 64-bit Linux:
 * short type, short whence, off_t start, off_t len, pid_t pid (0 for OFD locks); F_OFD_GETLK 36,
 * F_OFD_SETLK 37; pidfd_open 434 and pidfd_getfd 438 (numbered alike on every architecture).
 */
const HELPER = `
use strict;
sub lk {
  my ($fh, $cmd, $type, $byte) = @_;
  my $s = pack("s s x4 q q l x4", $type, 0, $byte, 1, 0);
  fcntl($fh, $cmd, $s) or return undef;
  return $s;
}
sub ops {
  my $fh = shift;
  for my $op (@_) {
    my ($what, $list) = split /:/, $op;
    for my $b (split /,/, $list) {
      if ($what eq "test") {
        my $s = lk($fh, 36, 1, $b) or return "error test $b: $!";
        my ($type) = unpack("s", $s);
        return "busy $b" if $type != 2;
      } else {
        lk($fh, 37, $what eq "set" ? 0 : 2, $b) or return "error $what $b: $!";
      }
    }
  }
  return "ok";
}
if (@ARGV && $ARGV[0] eq "serve") {
  $| = 1;
  my $pidfd = syscall(434, $ARGV[1] + 0, 0);
  my $why = $pidfd < 0 ? "pidfd_open: $!" : "";
  while (my $line = <STDIN>) {
    chomp $line;
    my ($n, @ops) = split / /, $line;
    if ($pidfd < 0) { print "nofd $why\n"; next }
    my $fd = syscall(438, $pidfd, $n + 0, 0);
    if ($fd < 0) { print "nofd pidfd_getfd: $!\n"; next }
    open(my $fh, "<&=", $fd) or do { print "error fd $n: $!\n"; next };
    my $r = ops($fh, @ops);
    close($fh);
    print "$r\n";
  }
  exit 0;
}
open(my $fh, "<&=", 3) or do { print "error fd 3: $!\n"; exit 0 };
print ops($fh, @ARGV), "\n";
`;

const LP64 = new Set(["x64", "arm64", "ppc64", "s390x", "riscv64", "loong64", "mips64el"]);
let unavailable: string | null = process.platform === "linux" && LP64.has(process.arch) ? null : "";

/** Why files are not locked on this system ("" on a platform without OFD locks), or null when they are. */
export function lockUnavailable(): string | null {
  return unavailable === "" ? `${process.platform}/${process.arch} has no OFD locks` : unavailable;
}

type Outcome = { kind: "ok" } | { kind: "busy"; byte: number };

function outcome(line: string, err = ""): Outcome {
  if (line === "ok") return { kind: "ok" };
  const busy = /^busy (\d+)$/.exec(line);
  if (busy) return { kind: "busy", byte: Number(busy[1]) };
  throw new VhdxError("IO_ERROR", `locking the file failed: ${line || err || "no answer"}`, "file lock");
}

/**
 * The perl that serves the command's requests. It never keeps the process alive: its pipes are
 * referenced only while a request waits, and it ends when its stdin closes (when this process does).
 */
class LockServer {
  private readonly child: ChildProcess;
  private readonly waiting: ((line: string | null) => void)[] = [];
  private pending = "";
  private gone = false;

  constructor() {
    this.child = spawn("perl", ["-e", HELPER, "serve", String(process.pid)], { stdio: ["pipe", "pipe", "ignore"] });
    const end = () => {
      this.gone = true;
      for (const w of this.waiting.splice(0)) w(null);
    };
    this.child.on("error", end);
    this.child.on("close", end);
    this.child.stdin!.on("error", () => undefined); // a perl that ended: told by "close"
    this.child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      this.pending += s;
      // Bounded: each turn takes one line off `pending`.
      for (let nl = this.pending.indexOf("\n"); nl >= 0; nl = this.pending.indexOf("\n")) {
        const line = this.pending.slice(0, nl).trim();
        this.pending = this.pending.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    this.hold(false);
  }

  private hold(on: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout] as (ChildProcess | Socket | null)[]) {
      if (on) h?.ref();
      else h?.unref();
    }
  }

  /** The answer to one request on descriptor `fd`, or null when this perl cannot serve it. */
  ask(fd: number, ops: string[]): Promise<string | null> {
    if (this.gone) return Promise.resolve(null);
    this.hold(true);
    return new Promise((resolve) => {
      this.waiting.push((line) => {
        if (this.waiting.length === 0) this.hold(false);
        resolve(line === null || line.startsWith("nofd") ? null : line);
      });
      this.child.stdin!.write(`${fd} ${ops.join(" ")}\n`);
    });
  }
}

/** undefined: not started yet; null: not usable here (each request then runs its own perl). */
let server: LockServer | null | undefined;

/**
 * Starts the command's lock helper now, so that its start overlaps the command's own before the
 * first file is locked. Does nothing where files are not locked or the helper runs already.
 */
export function startLockHelper(): void {
  if (unavailable !== null || server !== undefined) return;
  server = new LockServer();
}

/** Runs `ops` on descriptor `fd`; null when perl cannot run here. */
async function runHelper(fd: number, ops: string[]): Promise<Outcome | null> {
  startLockHelper();
  if (server) {
    const line = await server.ask(fd, ops);
    if (line !== null) return outcome(line);
    server = null;
  }
  return runOnce(fd, ops);
}

/** One perl for one request, the descriptor handed over as its fd 3; null without perl. */
function runOnce(fd: number, ops: string[]): Promise<Outcome | null> {
  return new Promise((resolve, reject) => {
    const child = spawn("perl", ["-e", HELPER, ...ops], { stdio: ["ignore", "pipe", "pipe", fd] });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") resolve(null);
      else reject(e);
    });
    child.on("close", () => {
      try {
        resolve(outcome(out.trim(), err.trim()));
      } catch (e) {
        reject(e);
      }
    });
  });
}

interface Holder {
  handle: FileHandle;
  mode: LockMode;
}
interface Entry {
  /** holders[0] carries the locks of the strongest mode among them. */
  holders: Holder[];
  mode: LockMode;
}
const registry = new Map<string, Entry>();
// Acquires and releases run one at a time, so the registry always matches the locks.
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(job: () => Promise<T>): Promise<T> {
  const run = queue.then(job, job);
  queue = run.catch(() => undefined);
  return run;
}

export interface FileLock {
  /** Call before closing the handle: hands the locks to another open of the same file, if any. */
  release(): Promise<void>;
}
const NO_LOCK: FileLock = { release: async () => undefined };

/**
 * Takes `mode` on the open file `handle` or throws FILE_LOCKED naming the
 * programs that hold it. The lock lasts until the handle closes.
 */
export function lockFile(handle: FileHandle, mode: LockMode): Promise<FileLock> {
  if (unavailable !== null) return Promise.resolve(NO_LOCK);
  return serial(async () => {
    const st = await handle.stat({ bigint: true });
    const key = `${st.dev}:${st.ino}`;
    const entry = registry.get(key);
    const holder: Holder = { handle, mode };
    if (!entry) {
      const r = await runHelper(handle.fd, [`set:${PLAN[mode].hold}`, `test:${PLAN[mode].test}`]);
      if (r === null) return noPerl();
      if (r.kind === "busy") {
        // The bytes this description took go with it when the caller closes it.
        await runHelper(handle.fd, [`unset:${PLAN[mode].hold}`]);
        throw await busyError(mode, st.dev, st.ino, r.byte);
      }
      registry.set(key, { holders: [holder], mode });
    } else {
      if (mode === "exclusive" && entry.mode === "shared") {
        const carrier = entry.holders[0].handle;
        const r = await runHelper(carrier.fd, [`set:${PLAN.exclusive.hold}`, `test:${PLAN.exclusive.test}`]);
        if (r === null) return noPerl();
        if (r.kind === "busy") {
          await runHelper(carrier.fd, [`unset:${WRITE_ONLY_BYTES}`]);
          throw await busyError(mode, st.dev, st.ino, r.byte);
        }
        entry.mode = "exclusive";
      }
      entry.holders.push(holder);
    }
    return { release: () => serial(() => release(key, holder)) };
  });
}

async function release(key: string, holder: Holder): Promise<void> {
  const entry = registry.get(key);
  if (!entry) return;
  const i = entry.holders.indexOf(holder);
  if (i < 0) return;
  entry.holders.splice(i, 1);
  if (entry.holders.length === 0) {
    registry.delete(key); // closing the handle drops its locks
    return;
  }
  const mode: LockMode = entry.holders.some((h) => h.mode === "exclusive") ? "exclusive" : "shared";
  const carrier = entry.holders[0].handle;
  if (i === 0) {
    // The carrier leaves: the next holder takes the bytes before the caller closes the old one,
    // so the file is never unlocked in between (taking shared bytes never conflicts).
    await runHelper(carrier.fd, [`set:${PLAN[mode].hold}`]);
  } else if (mode === "shared" && entry.mode === "exclusive") {
    await runHelper(carrier.fd, [`unset:${WRITE_ONLY_BYTES}`]);
  }
  entry.mode = mode;
}

function noPerl(): FileLock {
  unavailable = "perl was not found (it takes the locks Node cannot)";
  // Said once: on Linux a user expects the lock QEMU would take.
  process.stderr.write(`vhdx: warning: files are not locked against other programs: ${unavailable}\n`);
  return NO_LOCK;
}

async function busyError(mode: LockMode, dev: bigint, ino: bigint, byte: number): Promise<VhdxError> {
  const holders = await lockHolders(dev, ino);
  const who =
    holders.length > 0
      ? holders.map((h) => `${h.name} (pid ${h.pid})${h.writing ? ", writing" : ", reading"}`).join("; ")
      : "another program (not visible to this user)";
  const need =
    mode === "exclusive" ? "writing needs the file to itself" : "reading needs no other program writing it meanwhile";
  return new VhdxError("FILE_LOCKED", `the file is in use by ${who}: ${need}`, "file lock", byte);
}
