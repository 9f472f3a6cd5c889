import { expect } from "vitest";
import { VhdxError, VhdxErrorCode } from "../../src/vhdx/errors";

/** Runs `fn` and asserts it throws a VhdxError with this code, structure and offset. */
export function expectVhdxError(
  fn: () => unknown,
  code: VhdxErrorCode,
  structure: string | RegExp,
  offset: number | undefined,
): VhdxError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a VhdxError").toBeInstanceOf(VhdxError);
  const e = caught as VhdxError;
  expect(e.code).toBe(code);
  if (typeof structure === "string") expect(e.structure).toBe(structure);
  else expect(e.structure).toMatch(structure);
  expect(e.offset).toBe(offset);
  return e;
}

/** The async form of expectVhdxError. */
export async function expectVhdxErrorAsync(
  p: Promise<unknown>,
  code: VhdxErrorCode,
  structure: string | RegExp,
  offset: number | undefined,
): Promise<VhdxError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a VhdxError").toBeInstanceOf(VhdxError);
  const e = caught as VhdxError;
  expect(e.code).toBe(code);
  if (typeof structure === "string") expect(e.structure).toBe(structure);
  else expect(e.structure).toMatch(structure);
  expect(e.offset).toBe(offset);
  return e;
}
