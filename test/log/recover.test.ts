import { describe, expect, it } from "vitest";
import { isZeroGuid } from "../../src/vhdx/guid";
import { HeaderUpdater } from "../../src/vhdx/log/headerUpdate";
import { OverlayBackend } from "../../src/vhdx/log/overlay";
import { recoverLog } from "../../src/vhdx/log/recover";
import { dataUpdate, makeFile, put, sectorOf, TARGET, expectBytes } from "./builder";

async function dirty() {
  const f = makeFile();
  await put(f, 0, { sequenceNumber: 1n, updates: [dataUpdate(TARGET, 0x42)] });
  return f;
}

describe("recoverLog: the log at open (§2.3.3)", () => {
  it("overlay: reads see the replayed state, the file is not written", async () => {
    const f = await dirty();
    const before = f.io.bytes();
    const r = await recoverLog(f.io, f.header, "overlay");
    expect(r.replayed).toBe("overlay");
    expect(r.io).toBeInstanceOf(OverlayBackend);
    expect(r.io.readOnly).toBe(true);
    expectBytes(await r.io.read(TARGET, 4096), sectorOf(0x42, TARGET >>> 12));
    expectBytes(f.io.bytes(), before);
  });

  it("in-place: replays into the file and marks the log empty", async () => {
    const f = await dirty();
    const u = await HeaderUpdater.load(f.io);
    const r = await recoverLog(f.io, u.current, "in-place", u);
    expect(r.replayed).toBe("in-place");
    expect(r.io).toBe(f.io);
    expectBytes(await f.io.read(TARGET, 4096), sectorOf(0x42, TARGET >>> 12));
    expect(isZeroGuid((await HeaderUpdater.load(f.io)).current.logGuid)).toBe(true);
  });

  it("refuse: throws LOG_NEEDS_REPLAY", async () => {
    const f = await dirty();
    await expect(recoverLog(f.io, f.header, "refuse")).rejects.toMatchObject({ code: "LOG_NEEDS_REPLAY" });
  });

  it("LogGuid set, no valid sequence: a warning and the file as it is (read-only), LogGuid cleared (writable)", async () => {
    const f = makeFile();
    const before = f.io.bytes();
    const r = await recoverLog(f.io, f.header, "overlay");
    expect(r.replayed).toBe("none");
    expect(r.io).toBe(f.io);
    expect(r.warning).toMatch(/treated as an empty log/);
    expectBytes(f.io.bytes(), before);
    const u = await HeaderUpdater.load(f.io);
    const w = await recoverLog(f.io, u.current, "in-place", u);
    expect(w.warning).not.toBeNull();
    expect(isZeroGuid(u.current.logGuid)).toBe(true);
  });
});
