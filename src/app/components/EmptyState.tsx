/** What the window shows before an image is open. */
import { useApp } from "../store/store";

export function EmptyState() {
  const engineAvailable = useApp((s) => s.engineAvailable);
  return (
    <div className="empty">
      <h1>VHDX Studio</h1>
      <p>Inspect and patch Hyper-V virtual disks. Everything happens in this browser tab: nothing is uploaded.</p>
      <p className="muted">Open a .vhdx with “Open file”, drop one anywhere in this window, or try the sample.</p>
      {!engineAvailable && (
        <p className="muted">This build carries no engine worker, so images cannot be opened yet.</p>
      )}
    </div>
  );
}
