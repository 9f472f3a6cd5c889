import { describe, expect, it } from "vitest";
import { view } from "../../src/vhdx/bytes";
import {
  locatorValue,
  parseParentLocator,
  serializeParentLocator,
  VHDX_PARENT_LOCATOR_TYPE,
} from "../../src/vhdx/parentLocator";
import { expectVhdxError } from "../helpers/expectError";

const AT = 0x20_0000 + 0x1_0000;
const pairs: [string, string][] = [
  ["parent_linkage", "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}"],
  ["relative_path", "..\\..\\path2\\sub3\\parent.vhdx"],
  ["absolute_win32_path", "\\\\?\\d:\\path2\\sub3\\parent.vhdx"],
];

describe("parent locator (§2.6.2.6)", () => {
  it("round-trips", () => {
    const b = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, pairs);
    const pl = parseParentLocator(b, AT);
    expect(pl.locatorType).toBe(VHDX_PARENT_LOCATOR_TYPE);
    expect(pl.entries.map((e) => [e.key, e.value])).toEqual(pairs);
    expect(locatorValue(pl, "relative_path")).toBe(pairs[1][1]);
    expect(
      serializeParentLocator(
        pl.locatorType,
        pl.entries.map((e) => [e.key, e.value]),
      ),
    ).toEqual(b);
  });

  it("shorter than its 20-byte header", () => {
    expectVhdxError(() => parseParentLocator(new Uint8Array(19), AT), "PARENT_LOCATOR_INVALID", "parent locator", AT);
  });

  it("a key-value count larger than the item holds", () => {
    const b = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, pairs);
    view(b).setUint16(18, 0xffff, true);
    expectVhdxError(() => parseParentLocator(b, AT), "PARENT_LOCATOR_INVALID", "parent locator", AT + 18);
  });

  it("a zero offset or length", () => {
    for (const field of [0, 4, 8, 10]) {
      const b = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, pairs);
      if (field < 8) view(b).setUint32(20 + 12 + field, 0, true);
      else view(b).setUint16(20 + 12 + field, 0, true);
      expectVhdxError(() => parseParentLocator(b, AT), "PARENT_LOCATOR_INVALID", "parent locator", AT + 20 + 12);
    }
  });

  it("a key or value past the end of the item", () => {
    const b = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, pairs);
    view(b).setUint32(20 + 24 + 4, b.length - 2, true);
    expectVhdxError(() => parseParentLocator(b, AT), "PARENT_LOCATOR_INVALID", "parent locator", AT + 20 + 24);
    const c = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, pairs);
    view(c).setUint32(20, 0xfffffff0, true);
    expectVhdxError(() => parseParentLocator(c, AT), "PARENT_LOCATOR_INVALID", "parent locator", AT + 20);
  });

  it("a duplicated key", () => {
    const b = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, [pairs[0], pairs[1], ["relative_path", "x.vhdx"]]);
    expectVhdxError(() => parseParentLocator(b, AT), "PARENT_LOCATOR_INVALID", "parent locator", AT + 20 + 24);
  });
});
