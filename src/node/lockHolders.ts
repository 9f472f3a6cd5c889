/**
 * Who holds a lock on a file, from Linux's /proc: every process's open descriptors are looked at
 * (those of other users only where this user may), and a descriptor on the file whose fdinfo
 * lists "lock:" lines is a holder. OFD locks carry no owner pid (F_OFD_GETLK and /proc/locks say
 * -1), so this is the only way to name one. Run only on a refusal; bounded by what /proc lists.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename } from "node:path";

export interface LockHolder {
  pid: number;
  /** "qemu-io", "qemu-system-x86_64", "vhdx write", … */
  name: string;
  /** It holds QEMU's write permission byte (101). */
  writing: boolean;
}

const MAX_PROCESSES = 100_000;
const MAX_FDS = 100_000;

export async function lockHolders(dev: bigint, ino: bigint): Promise<LockHolder[]> {
  const out: LockHolder[] = [];
  const pids = (await readdir("/proc").catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  for (const p of pids.slice(0, MAX_PROCESSES)) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    const fds = await readdir(`/proc/${p}/fd`).catch(() => [] as string[]);
    let writing = false;
    let holds = false;
    for (const fd of fds.slice(0, MAX_FDS)) {
      const st = await stat(`/proc/${p}/fd/${fd}`, { bigint: true }).catch(() => null);
      if (!st || st.ino !== ino || st.dev !== dev) continue;
      const info = await readFile(`/proc/${p}/fdinfo/${fd}`, "utf8").catch(() => "");
      for (const m of info.matchAll(/^lock:.*:\d+ (\d+) (\d+|EOF)$/gm)) {
        holds = true;
        const start = Number(m[1]);
        const end = m[2] === "EOF" ? Infinity : Number(m[2]);
        if (start <= 101 && 101 <= end) writing = true;
      }
    }
    if (holds) out.push({ pid, name: await processName(p), writing });
  }
  return out;
}

/** The program's name; for this command's own processes, "vhdx" and the subcommand. */
async function processName(pid: string): Promise<string> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").filter(Boolean);
  if (argv.length === 0) return "a process";
  // `vhdx write …` itself, or `node …/vhdx.cjs write …`.
  const i = [0, 1].find((k) => argv[k] && /^(vhdx|vhdx\.cjs|cli\.cjs)$/.test(basename(argv[k])));
  if (i !== undefined && argv[i + 1]) return `vhdx ${argv[i + 1]}`;
  return basename(argv[0]);
}
