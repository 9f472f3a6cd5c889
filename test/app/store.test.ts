/**
 * The store's contract with the engine: what it asks for, what it keeps, and that a failed or
 * cancelled commit keeps the staged edits. The engine is a hand-built double of EngineApi.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { CheckReport, CommitCost, EngineApi, FileMap, ImageInfo, PatchWrite } from "../../src/app/store/engineApi";

const calls: string[] = [];
const committed: PatchWrite[][] = [];
let failCommit = false;
let findings: CheckReport["findings"] = [];

const baseInfo = {
  diskType: "dynamic",
  virtualSize: 64 * 2 ** 20,
  blockSize: 2 ** 20,
  logicalSectorSize: 512,
  physicalSectorSize: 4096,
  creator: "test",
  fileSize: 8 * 2 ** 20,
  chunkRatio: 4096,
  log: { needsReplay: false, guid: "", offset: 2 ** 20, length: 2 ** 20 },
} as unknown as Omit<ImageInfo, "readOnly">;

const engine: EngineApi = {
  async open() {
    calls.push("open");
    return { readOnly: false, readOnlyReason: null, logAwaitsReplay: false };
  },
  async info() {
    calls.push("info");
    return baseInfo as never;
  },
  async map() {
    calls.push("map");
    return {
      fileSize: 8 * 2 ** 20,
      extentEnd: 4 * 2 ** 20,
      window: { start: 0, end: 8 * 2 ** 20, granularity: 1 },
      extents: [],
      gaps: [],
      overlaps: [],
      pastEnd: [],
    } satisfies FileMap;
  },
  async read(_space, _offset, length) {
    return new Uint8Array(length);
  },
  async batWords() {
    calls.push("batWords");
    return new Uint32Array(128);
  },
  async check() {
    calls.push("check");
    return { ok: !findings.some((f) => f.severity === "error"), findings };
  },
  async commitCost(patch): Promise<CommitCost> {
    calls.push("commitCost");
    const problems = patch.some((w) => w.space === "file" && w.offset < 0x30000) ? ["touches the header section"] : [];
    return { virtual: null, structureSectors: 0, problems, storage: null };
  },
  async commitPatch(patch) {
    calls.push("commitPatch");
    if (failCommit) throw new Error("disk full");
    committed.push(patch);
    return { atomic: true, blocksAllocated: 1, blocksCopied: 0, bytesWritten: 4096, ms: 1 };
  },
  async close() {},
};

vi.mock("../../src/app/store/engineConnection", () => ({
  connectEngine: () => engine,
  recentFiles: { list: async () => [], remember: async () => undefined, reopen: async () => null },
}));

const { useApp } = await import("../../src/app/store/store");
const file = new File([new Uint8Array(16)], "disk.vhdx");

beforeEach(() => {
  calls.length = 0;
  committed.length = 0;
  failCommit = false;
  findings = [];
});

describe("store", () => {
  it("opens through the engine and composes the info with how the file was opened", async () => {
    await useApp.getState().openSource(file, "disk.vhdx");
    const s = useApp.getState();
    expect(s.status).toBe("ready");
    expect(calls.slice(0, 1)).toEqual(["open"]);
    expect(calls).toEqual(expect.arrayContaining(["info", "map", "batWords", "check"]));
    expect(s.info?.readOnly).toBe(false);
    expect(s.info?.fileName).toBe("disk.vhdx");
    expect(s.caps).toEqual({ log: false, check: true, replay: false, commit: true, workingCopy: false, save: false });
    expect(s.inspection).toBe(false);
  });

  it("enters inspection mode for damage, not for a log that only needs replay", async () => {
    findings = [{ severity: "error", code: "LOG_NEEDS_REPLAY", message: "", structure: "log", offset: 0, length: 0 }];
    await useApp.getState().openSource(file, "disk.vhdx");
    expect(useApp.getState().inspection).toBe(false);
    findings = [{ severity: "error", code: "REGION_OVERLAP", message: "", structure: "BAT", offset: 0, length: 0 }];
    await useApp.getState().openSource(file, "disk.vhdx");
    expect(useApp.getState().inspection).toBe(true);
    expect(useApp.getState().findingsOpen).toBe(true);
  });

  it("shows the cost first, then commits the flattened stage and clears it", async () => {
    await useApp.getState().openSource(file, "disk.vhdx");
    const { stageEdit } = useApp.getState();
    stageEdit({ space: "virtual", offset: 4096, data: Uint8Array.of(1, 2), kind: "paste" });
    stageEdit({ space: "virtual", offset: 4097, data: Uint8Array.of(9, 3), kind: "paste" });
    await useApp.getState().prepareCommit();
    const c = useApp.getState().commit;
    expect(c.phase).toBe("confirm");
    if (c.phase === "confirm") {
      expect(c.bytesStaged).toBe(3);
      expect(c.cost.problems).toEqual([]);
    }
    expect(calls).not.toContain("commitPatch");
    await useApp.getState().confirmCommit();
    expect(committed).toHaveLength(1);
    expect(committed[0].map((w) => [w.space, w.offset, Array.from(w.data)])).toEqual([["virtual", 4096, [1, 9, 3]]]);
    expect(useApp.getState().stage.writes).toHaveLength(0);
    expect(useApp.getState().commit.phase).toBe("done");
  });

  it("keeps the staged edits when a commit fails", async () => {
    await useApp.getState().openSource(file, "disk.vhdx");
    useApp.getState().stageEdit({ space: "virtual", offset: 0, data: Uint8Array.of(7), kind: "type" });
    failCommit = true;
    await useApp.getState().confirmCommit();
    const c = useApp.getState().commit;
    expect(c.phase).toBe("error");
    if (c.phase === "error") expect(c.message).toBe("disk full");
    expect(useApp.getState().stage.writes).toHaveLength(1);
  });

  it("goes to an offset by switching to the hex view", () => {
    useApp.getState().goTo("file", 0x20000, 4096);
    expect(useApp.getState().tab).toBe("Hex");
    // The range opens selected: the cursor on its first byte, the anchor on its last.
    expect(useApp.getState().focus).toEqual({ space: "file", offset: 0x20000, length: 4096, anchor: 0x20fff });
    useApp.getState().goTo("virtual", 0x200);
    expect(useApp.getState().focus.anchor).toBeUndefined();
  });
});
