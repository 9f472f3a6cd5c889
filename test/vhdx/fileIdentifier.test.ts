import { describe, expect, it } from "vitest";
import { FILE_IDENTIFIER_SIZE, parseFileIdentifier, serializeFileIdentifier } from "../../src/vhdx/fileIdentifier";
import { expectVhdxError } from "../helpers/expectError";

describe("file type identifier (§2.2.1)", () => {
  it("round-trips", () => {
    const b = serializeFileIdentifier({ creator: "Microsoft Windows 10.0.19041.0" });
    expect(b.length).toBe(FILE_IDENTIFIER_SIZE);
    expect(String.fromCharCode(...b.subarray(0, 8))).toBe("vhdxfile");
    expect(parseFileIdentifier(b)).toEqual({ signature: "vhdxfile", creator: "Microsoft Windows 10.0.19041.0" });
  });

  it("cuts a creator longer than its 512 bytes and keeps a terminating NUL", () => {
    const b = serializeFileIdentifier({ creator: "x".repeat(400) });
    expect(parseFileIdentifier(b).creator).toBe("x".repeat(255));
  });

  it("rejects a wrong signature at offset 0", () => {
    const b = serializeFileIdentifier({ creator: "" });
    b[0] = "V".charCodeAt(0);
    expectVhdxError(() => parseFileIdentifier(b), "NOT_VHDX", "file type identifier", 0);
  });

  it("rejects bytes too short for the structure", () => {
    expectVhdxError(
      () => parseFileIdentifier(serializeFileIdentifier({ creator: "" }).subarray(0, 519)),
      "NOT_VHDX",
      "file type identifier",
      0,
    );
  });
});
