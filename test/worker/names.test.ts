import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { splitExtension, uniqueName } from "../../src/worker/storage/names";

describe("uniqueName", () => {
  it("keeps a free name as it is", () => {
    expect(uniqueName("converted.vhdx", ["new.vhdx"])).toBe("converted.vhdx");
    expect(uniqueName("converted.vhdx", [])).toBe("converted.vhdx");
  });

  it("numbers a taken name as file managers do: (2), then (3)", () => {
    expect(uniqueName("converted.vhdx", ["converted.vhdx"])).toBe("converted (2).vhdx");
    expect(uniqueName("converted.vhdx", ["converted.vhdx", "converted (2).vhdx"])).toBe("converted (3).vhdx");
    // A gap is filled: (2) is free again.
    expect(uniqueName("converted.vhdx", ["converted.vhdx", "converted (3).vhdx"])).toBe("converted (2).vhdx");
  });

  it("counts on from a name that already carries a number", () => {
    expect(uniqueName("disk (2).vhdx", ["disk (2).vhdx"])).toBe("disk (3).vhdx");
    expect(uniqueName("disk (9).img", ["disk (9).img", "disk (10).img"])).toBe("disk (11).img");
  });

  it("compares without regard to case", () => {
    expect(uniqueName("New.VHDX", ["new.vhdx"])).toBe("New (2).VHDX");
  });

  it("handles names without an extension and dotfiles", () => {
    expect(uniqueName("disk", ["disk"])).toBe("disk (2)");
    expect(splitExtension(".probe")).toEqual({ stem: ".probe", ext: "" });
    expect(splitExtension("a.b.vhdx")).toEqual({ stem: "a.b", ext: ".vhdx" });
  });

  it("always returns a name not taken, and the asked name when it is free", () => {
    const name = fc.constantFrom("disk.vhdx", "disk (2).vhdx", "converted.img", "x");
    fc.assert(
      fc.property(
        name,
        fc.array(
          fc.oneof(
            name,
            fc.nat(30).map((n) => `disk (${n}).vhdx`),
          ),
          { maxLength: 40 },
        ),
        (n, taken) => {
          const out = uniqueName(n, taken);
          const lower = taken.map((t) => t.toLowerCase());
          expect(lower).not.toContain(out.toLowerCase());
          if (!lower.includes(n.toLowerCase())) expect(out).toBe(n);
          expect(splitExtension(out).ext).toBe(splitExtension(n).ext);
        },
      ),
    );
  });
});
