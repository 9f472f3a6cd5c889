/**
 * "Fill selection": the bytes that fill a range with a byte or a repeated pattern, staged as one
 * edit (one undo step). A fill is held in memory until Commit, so it is capped; larger ranges are
 * the Write file dialog's job (it streams).
 */
import { parseHexBytes } from "./hexFormat";

export const MAX_FILL = 16 * 1024 * 1024;

export type FillResult = { ok: true; data: Uint8Array } | { ok: false; error: string };

/** `pattern` ("00", "de ad be ef") repeated over `length` bytes, the last repetition cut short. */
export function fillBytes(pattern: string, length: number): FillResult {
  const unit = parseHexBytes(pattern);
  if (!unit) return { ok: false, error: "Type a byte or a pattern as hex digits, e.g. 00 or DE AD BE EF" };
  if (length > MAX_FILL) {
    return {
      ok: false,
      error: `Fills are limited to ${MAX_FILL / 1024 / 1024} MiB (staged edits are held in memory until Commit); use Write file… for more`,
    };
  }
  const data = new Uint8Array(length);
  if (length === 0) return { ok: true, data };
  data.set(unit.subarray(0, length));
  // Doubling copies: log2(length / unit) native copies, not one per repetition.
  for (let filled = Math.min(unit.length, length); filled < length; filled *= 2) {
    data.copyWithin(filled, 0, Math.min(filled, length - filled));
  }
  return { ok: true, data };
}
