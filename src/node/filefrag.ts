import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";

/** filefrag's usual homes: /usr/sbin is not on an ordinary user's PATH on Debian. */
const FILEFRAG_PATHS = ["/usr/sbin/filefrag", "/sbin/filefrag"];
const FILEFRAG_TIMEOUT_MS = 5000;

/** `filefrag -v -b1` on the open file, through /proc/self/fd so it maps the very file we opened. */
export async function runFilefrag(fh: FileHandle): Promise<string | null> {
  if (process.platform !== "linux") return null;
  const exe = FILEFRAG_PATHS.find((p) => existsSync(p));
  if (!exe) return null;
  return new Promise((resolve) => {
    const child = spawn(exe, ["-v", "-b1", "/proc/self/fd/3"], {
      stdio: ["ignore", "pipe", "ignore", fh.fd],
      env: { LC_ALL: "C", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
    // A map that takes this long is not worth waiting for: reading the file is the fallback.
    const timer = setTimeout(() => child.kill("SIGKILL"), FILEFRAG_TIMEOUT_MS);
    let out = "";
    const stdout = child.stdout!; // "pipe" above
    stdout.setEncoding("utf8");
    stdout.on("data", (chunk: string) => (out += chunk));
    child.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? out : null);
    });
  });
}
