import { afterEach, describe, expect, it } from "vitest";
import { serve } from "../../src/worker/host";
import { createRpcClient } from "../../src/app/engine/rpc";
import { transfer, type CallContext, type MethodTable, type Port } from "../../src/worker/protocol";
import { VhdxError } from "../../src/vhdx/errors";

/** Methods shaped like the engine worker's, to exercise every path of the protocol. */
const testMethods = {
  async add(_ctx: CallContext, a: number, b: number) {
    return a + b;
  },
  async bytes(_ctx: CallContext, n: number) {
    const out = new Uint8Array(n).fill(7);
    return transfer(out, [out.buffer]);
  },
  async sum(_ctx: CallContext, data: Uint8Array) {
    return data.reduce((s, v) => s + v, 0);
  },
  async fail() {
    throw new VhdxError("BAT_ENTRY_BEYOND_EOF", "BAT entry 3 points past the end of the file", "BAT", 0x300018);
  },
  /** Counts to `steps`, reporting progress, until cancelled. */
  async count(ctx: CallContext, steps: number) {
    for (let i = 1; i <= steps; i++) {
      if (ctx.signal.aborted) throw new VhdxError("CANCELLED", "count was cancelled", "count");
      await new Promise((r) => setTimeout(r, 5));
      ctx.progress(i / steps, i * 100);
    }
    return steps;
  },
} satisfies MethodTable;

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function connect() {
  const ch = new MessageChannel();
  channels.push(ch);
  const stop = serve(ch.port1 as unknown as Port, testMethods);
  const client = createRpcClient<typeof testMethods>(ch.port2 as unknown as Port);
  ch.port1.start();
  ch.port2.start();
  return { client, stop };
}

describe("worker protocol", () => {
  it("calls a method by name with typed arguments and result", async () => {
    const { client } = connect();
    const r: number = await client.api.add(2, 40);
    expect(r).toBe(42);
    expect(client.inFlight).toBe(0);
  });

  it("transfers result buffers instead of copying them", async () => {
    const { client } = connect();
    const got = await client.api.bytes(1 << 20);
    expect(got).toBeInstanceOf(Uint8Array);
    expect(got.length).toBe(1 << 20);
    expect(got[12345]).toBe(7);
  });

  it("transfers argument buffers when asked: the sender's copy is detached", async () => {
    const { client } = connect();
    const data = new Uint8Array(1000).fill(3);
    const r = await client.call("sum", [data], { transfer: [data.buffer] });
    expect(r).toBe(3000);
    expect(data.byteLength).toBe(0);
  });

  it("rebuilds a VhdxError with its code, structure and offset", async () => {
    const { client } = connect();
    const err = await client.api.fail().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VhdxError);
    const v = err as VhdxError;
    expect(v.code).toBe("BAT_ENTRY_BEYOND_EOF");
    expect(v.structure).toBe("BAT");
    expect(v.offset).toBe(0x300018);
    expect(v.describe()).toContain("BAT at offset 0x30_0018");
  });

  it("reports progress, throttled, ending at 1", async () => {
    const { client } = connect();
    const seen: { fraction: number; bytes: number }[] = [];
    const r = await client.api.count(30).onProgress((p) => seen.push(p));
    expect(r).toBe(30);
    expect(seen.at(-1)).toEqual({ fraction: 1, bytes: 3000 });
    // 30 steps of ~5 ms with a 100 ms throttle: far fewer events than steps.
    expect(seen.length).toBeLessThan(30);
    for (let i = 1; i < seen.length; i++) expect(seen[i].fraction).toBeGreaterThan(seen[i - 1].fraction);
  });

  it("cancels a call by its id and rejects with CANCELLED", async () => {
    const { client } = connect();
    const job = client.api.count(10_000);
    setTimeout(() => job.cancel(), 30);
    const err = await job.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VhdxError);
    expect((err as VhdxError).code).toBe("CANCELLED");
  });

  it("cancels through an AbortSignal, leaving other calls running", async () => {
    const { client } = connect();
    const ctl = new AbortController();
    const a = client.call("count", [10_000], { signal: ctl.signal });
    const b = client.api.count(3);
    setTimeout(() => ctl.abort(), 20);
    await expect(a).rejects.toMatchObject({ code: "CANCELLED" });
    await expect(b).resolves.toBe(3);
  });

  it("answers an unknown method with an error instead of hanging", async () => {
    const { client } = connect();
    const call = client.call as unknown as (m: string, a: unknown[]) => Promise<unknown>;
    await expect(call("nope", [])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
