import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A crash test walks every kill point of a run, a process or two each: minutes on a busy machine.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Vitest's default is one fewer worker than cores: one on a 2-core machine, every file in turn.
    // Much of a test's time is spent waiting for the processes it runs (qemu-img, the command), so
    // two files at once finish sooner there; no test asserts a duration.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ["test/global-setup.ts"],
  },
});
