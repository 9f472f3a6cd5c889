import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ByteLru } from "../../src/worker/storage/lru";

const buf = (n: number): Uint8Array => new Uint8Array(n);

describe("ByteLru", () => {
  it("evicts the least recently used entries once the byte budget is exceeded", () => {
    const lru = new ByteLru<number, Uint8Array>(300);
    lru.set(1, buf(100));
    lru.set(2, buf(100));
    lru.set(3, buf(100));
    expect(lru.bytes).toBe(300);
    lru.get(1); // 1 is now the youngest; 2 is the oldest
    lru.set(4, buf(100));
    expect(lru.has(2)).toBe(false);
    expect(lru.keys()).toEqual([3, 1, 4]);
    expect(lru.bytes).toBe(300);
  });

  it("peek does not refresh age; replacing a key updates the byte count", () => {
    const lru = new ByteLru<string, Uint8Array>(200);
    lru.set("a", buf(100));
    lru.set("b", buf(100));
    lru.peek("a");
    lru.set("c", buf(50)); // over budget: the oldest, "a", goes
    expect(lru.keys()).toEqual(["b", "c"]);
    lru.set("b", buf(10));
    expect(lru.bytes).toBe(60);
  });

  it("never keeps a value larger than the whole budget", () => {
    const lru = new ByteLru<number, Uint8Array>(64);
    lru.set(1, buf(10));
    lru.set(2, buf(65));
    expect(lru.has(2)).toBe(false);
    expect(lru.has(1)).toBe(true);
  });

  it("stays within budget and agrees with a reference model under random operations", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("set", "get", "delete"),
            fc.integer({ min: 0, max: 9 }),
            fc.integer({ min: 1, max: 120 }),
          ),
          {
            maxLength: 200,
          },
        ),
        (ops) => {
          const budget = 256;
          const lru = new ByteLru<number, Uint8Array>(budget);
          // Reference: an array of [key, size] from oldest to youngest.
          let model: [number, number][] = [];
          for (const [op, key, size] of ops) {
            if (op === "set") {
              model = model.filter(([k]) => k !== key);
              lru.set(key, buf(size));
              if (size <= budget) {
                model.push([key, size]);
                while (model.reduce((s, [, n]) => s + n, 0) > budget) model.shift();
              }
            } else if (op === "get") {
              const hit = lru.get(key);
              const i = model.findIndex(([k]) => k === key);
              expect(hit !== undefined).toBe(i >= 0);
              if (i >= 0) model.push(...model.splice(i, 1));
            } else {
              lru.delete(key);
              model = model.filter(([k]) => k !== key);
            }
            expect(lru.bytes).toBeLessThanOrEqual(budget);
            expect(lru.keys()).toEqual(model.map(([k]) => k));
            expect(lru.bytes).toBe(model.reduce((s, [, n]) => s + n, 0));
          }
        },
      ),
    );
  });
});
