/**
 * The file report: everything the engine knows about one VHDX file in one JSON document — the
 * file's SHA-256, headers, region tables, metadata, BAT counts by state, the log's entries and
 * verdicts with the decoded replay changes, and the checker's findings. `vhdx report --json` and
 * the editor's Report export build it with this one function, so the two agree byte for byte
 * except `generatedAt`.
 */
import { checkImage, type CheckReport } from "./check";
import type { VhdxImage } from "./image";
import type { ImageInfo } from "./info";
import { logReport, type LogReport } from "./logReport";
import { sha256OfFile } from "./sha256";

export const REPORT_FORMAT = "vhdx-studio-file-report";
export const REPORT_VERSION = 1;

/** LogReport with its byte arrays as hex text, so the report is plain JSON. */
type Hexed<T> = T extends Uint8Array
  ? string
  : T extends (infer U)[]
    ? Hexed<U>[]
    : T extends object
      ? { [K in keyof T]: Hexed<T[K]> }
      : T;

export interface FileReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  /** ISO 8601; the one field two reports of the same file differ in. */
  generatedAt: string;
  file: { name: string; size: number; sha256: string };
  image: ImageInfo;
  log: Hexed<LogReport>;
  check: Hexed<CheckReport>;
}

export interface ReportOptions {
  /** The file's name as the user knows it (no directory). */
  name: string;
  /** Hears progress of the hash (the long part) and may throw to stop. */
  onProgress?: (done: number, total: number) => void;
  /** Fixed time, for tests; default now. */
  now?: Date;
}

function hexBytes(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

/** A JSON round trip that writes byte arrays as hex and bigints as decimal text. */
function plain<T>(v: T): Hexed<T> {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === "bigint" ? x.toString() : x instanceof Uint8Array ? hexBytes(x) : x,
    ),
  ) as Hexed<T>;
}

/**
 * Builds the report of the open image. The hash and the checker read the file as it is on disk
 * (`img.file`); a pending log is described, not applied.
 */
export async function fileReport(img: VhdxImage, opts: ReportOptions): Promise<FileReport> {
  const size = await img.file.size();
  const sha256 = await sha256OfFile(img.file, opts.onProgress);
  const check = await checkImage(img.file);
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    file: { name: opts.name, size, sha256 },
    image: plain(img.info()),
    log: plain(await logReport(img, { previewBytes: 16 })),
    check: plain(check),
  };
}
