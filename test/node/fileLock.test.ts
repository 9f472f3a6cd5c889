/**
 * The locks one process holds on a file it opens more than once (merge opens the parent to read
 * its chain and again to write it): one description carries them, stronger when a writer joins,
 * handed on when the carrier closes. qemu-io, from outside, says what it sees.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { lockUnavailable } from "../../src/node/fileLock";
import { VhdxError } from "../../src/vhdx/errors";
import { createQemuImage } from "../helpers/qemu";
import { missingTools, requireTool } from "../helpers/tools";
import { useTempDir } from "../helpers/tmp";

const tmp = useTempDir("vhdx-filelock-");

/** What qemu-io may do to the file now: write, read (consistent), or nothing. */
function qemuMay(path: string): "write" | "read" | "nothing" {
  const io = requireTool("qemu-io");
  if (spawnSync(io, ["-f", "vhdx", "-c", "read 0 512", path]).status === 0) return "write";
  if (spawnSync(io, ["-f", "vhdx", "-r", "-c", "read 0 512", path]).status === 0) return "read";
  return "nothing";
}

describe.skipIf(process.platform !== "linux" || missingTools("qemu-io", "perl"))(
  "file locks within one process",
  () => {
    it("is available on this Linux host (perl present)", async () => {
      const p = createQemuImage({ path: tmp.path("probe.vhdx"), sizeBytes: 8 << 20 });
      const f = await NodeFileBackend.open(p, { lock: "shared" });
      await f.close();
      expect(lockUnavailable()).toBeNull();
    });

    it("a second open of the same file rides on the first; a writer strengthens it; the locks move on close", async () => {
      const p = createQemuImage({ path: tmp.path("a.vhdx"), sizeBytes: 8 << 20 });
      expect(qemuMay(p)).toBe("write");
      const r1 = await NodeFileBackend.open(p, { lock: "shared" });
      expect(qemuMay(p)).toBe("read");
      const w = await NodeFileBackend.open(p, { readOnly: false, lock: "exclusive" });
      expect(qemuMay(p)).toBe("nothing");
      const r2 = await NodeFileBackend.open(p, { lock: "shared" });
      await w.close();
      expect(qemuMay(p)).toBe("read");
      await r1.close(); // the carrier leaves; r2 still holds the file
      expect(qemuMay(p)).toBe("read");
      await r2.close();
      expect(qemuMay(p)).toBe("write");
    });

    it("a refused upgrade names the other program and takes back the write bytes", async () => {
      const p = createQemuImage({ path: tmp.path("b.vhdx"), sizeBytes: 8 << 20 });
      const r = await NodeFileBackend.open(p, { lock: "shared" });
      const q = spawn(requireTool("qemu-io"), ["-f", "vhdx", "-r", p], { stdio: ["pipe", "pipe", "pipe"] });
      try {
        await until(
          () => qemuMay(p) === "read" && spawnSync("grep", ["-q", "^lock:", ...fdinfos(q.pid!)]).status === 0,
        );
        let err: unknown;
        try {
          await (await NodeFileBackend.open(p, { readOnly: false, lock: "exclusive" })).close();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(VhdxError);
        expect((err as VhdxError).code).toBe("FILE_LOCKED");
        expect((err as VhdxError).message).toContain(`qemu-io (pid ${q.pid}), reading`);
        // Our shared lock is as it was: other readers welcome, writers not.
        expect(qemuMay(p)).toBe("read");
      } finally {
        q.stdin!.end("quit\n");
        await new Promise((res) => q.once("exit", res));
        await r.close();
      }
      expect(qemuMay(p)).toBe("write");
    });

    it("where the kernel refuses the command's helper a copy of the descriptor, each lock runs its own perl", async () => {
      // A perl in PATH that, asked to serve, answers every request as a kernel refusing
      // pidfd_getfd would (as Yama's ptrace restrictions do); any other run is the real perl.
      const bin = tmp.path("bin");
      spawnSync("mkdir", ["-p", bin]);
      const perl = requireTool("perl");
      writeFileSync(
        `${bin}/perl`,
        `#!/bin/sh\nif [ "$3" = serve ]; then while read l; do echo "nofd pidfd_getfd: refused"; done; exit 0; fi\nexec ${perl} "$@"\n`,
      );
      chmodSync(`${bin}/perl`, 0o755);
      const p = createQemuImage({ path: tmp.path("c.vhdx"), sizeBytes: 8 << 20 });
      const vhdx = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vhdx.cjs");
      const w = spawn(process.execPath, [vhdx, "write", p, "--offset", "0"], {
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      });
      try {
        await until(() => spawnSync("grep", ["-q", "^lock:", ...fdinfos(w.pid!)]).status === 0);
        expect(qemuMay(p)).toBe("nothing");
      } finally {
        w.stdin!.end(new Uint8Array(512));
        expect(await new Promise((res) => w.once("exit", res))).toBe(0);
      }
      expect(qemuMay(p)).toBe("write");
    });
  },
);

function fdinfos(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fdinfo`).map((fd) => `/proc/${pid}/fdinfo/${fd}`);
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in 20 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}
