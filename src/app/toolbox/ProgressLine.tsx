/** A progress bar with its percentage in words, for the toolbox's long operations. */
import { formatSize } from "../lib/format";
import type { Progress } from "../store/engineApi";

export function ProgressLine({
  label,
  progress,
  idle,
  bytes,
}: {
  label: string;
  progress: Progress | null;
  idle: string;
  bytes?: number;
}) {
  const pct = progress && progress.total > 0 ? Math.round((100 * progress.done) / progress.total) : null;
  return (
    <div className="progress-line">
      <progress aria-label={label} max={progress?.total || 1} value={progress ? progress.done : undefined} />
      <p role="status">
        {pct === null ? idle : `${progress!.phase}: ${pct}%`}
        {bytes ? ` — ${formatSize(bytes)}` : ""}
      </p>
    </div>
  );
}
