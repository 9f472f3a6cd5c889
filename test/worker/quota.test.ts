import { afterEach, describe, expect, it, vi } from "vitest";
import { checkQuota } from "../../src/worker/storage/copy";
import { VhdxError } from "../../src/vhdx/errors";

afterEach(() => vi.unstubAllGlobals());

function stubEstimate(quota: number, usage: number): void {
  vi.stubGlobal("navigator", { storage: { estimate: async () => ({ quota, usage }) } });
}

describe("checkQuota (before an import into OPFS)", () => {
  it("passes when the copy fits in what is left of the quota", async () => {
    stubEstimate(1000, 400);
    await expect(checkQuota(600)).resolves.toEqual({ quota: 1000, usage: 400 });
  });

  it("refuses a copy larger than what is left, naming the numbers", async () => {
    stubEstimate(1000, 400);
    const e = await checkQuota(601).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VhdxError);
    expect((e as VhdxError).code).toBe("IO_ERROR");
    expect((e as VhdxError).message).toMatch(/601 bytes.*600 bytes available of a 1000-byte quota/);
  });

  it("counts the older copy being replaced as space that comes back", async () => {
    stubEstimate(1000, 900);
    await expect(checkQuota(500, 450)).resolves.toBeDefined();
    await expect(checkQuota(500, 300)).rejects.toMatchObject({ code: "IO_ERROR" });
  });
});
