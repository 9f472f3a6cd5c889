/**
 * The Files view's name order against Intl.Collator (numeric, case ignored), which it stands in
 * for on ASCII names: for any two names the fast compare gives the collator's sign.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareAsciiNames, compareNames, sortColumns, sortEntries, type SortKey } from "../../src/worker/files/order";
import { ENTRY_TYPES, type FsEntry } from "../../src/fs/types";

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
const printable = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.constantFrom("0", "1", "9", "a", "A", "z", " ", ".", "_", "-"),
  ),
  maxLength: 12,
});

describe("Files view name order", () => {
  it("compares printable ASCII names as Intl.Collator does", () => {
    fc.assert(
      fc.property(printable, printable, (a, b) => {
        expect(Math.sign(compareAsciiNames(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(
          Math.sign(collator.compare(a, b)),
        );
      }),
      { numRuns: 20000 },
    );
  });

  it("hands other names to the collator", () => {
    expect(Math.sign(compareNames("été", "ete2"))).toBe(Math.sign(collator.compare("été", "ete2")));
    expect(Math.sign(compareNames("Zürich", "zz"))).toBe(-1);
  });

  it("sorts folders first, then by the key, names breaking ties", () => {
    const e = (name: string, type: FsEntry["type"], size: number): FsEntry => ({
      name,
      path: name,
      type,
      size,
      mtime: null,
      ref: name,
    });
    const list = [e("file 10", "file", 1), e("File 9", "file", 5), e("b", "dir", 0), e("A", "dir", 0)];
    sortEntries(list, { key: "name", descending: false });
    expect(list.map((x) => x.name)).toEqual(["A", "b", "File 9", "file 10"]);
    sortEntries(list, { key: "size", descending: true });
    expect(list.map((x) => x.name)).toEqual(["b", "A", "File 9", "file 10"]);
  });

  it("sorts columns into the order sortEntries gives the same entries, for every key and direction", () => {
    const entry = fc.record({
      name: fc.oneof(printable, fc.constantFrom("é", "Ünï 2", "日本", "a\u00df")),
      type: fc.constantFrom(...ENTRY_TYPES),
      size: fc.integer({ min: 0, max: 20 }),
      mtime: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    });
    const keys: SortKey[] = ["name", "size", "mtime", "type"];
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 40 }),
        fc.constantFrom(...keys),
        fc.boolean(),
        (raw, key, descending) => {
          const list: FsEntry[] = raw.map((r, i) => ({ ...r, path: String(i), ref: i }));
          const order = { key, descending };
          const columns = sortColumns(
            {
              names: list.map((x) => x.name),
              types: Uint8Array.from(list, (x) => ENTRY_TYPES.indexOf(x.type)),
              sizes: Float64Array.from(list, (x) => x.size),
              mtimes: Float64Array.from(list, (x) => x.mtime ?? NaN),
            },
            order,
          );
          const sorted = [...list];
          sortEntries(sorted, order);
          expect([...columns].map((i) => list[i].path)).toEqual(sorted.map((x) => x.path));
        },
      ),
    );
  });
});
