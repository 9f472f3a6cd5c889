/** The toolbox's entries in the top bar: check and repair the open image; its dialog. */
import { useApp } from "../store/store";
import { CheckDialog } from "./CheckDialog";
import { useCheck } from "./checkStore";
import "./toolbox.css";

export function ToolboxMenu() {
  const info = useApp((s) => s.info);
  const busy = useApp((s) => s.status === "opening");
  const showCheck = useCheck((s) => s.show);
  return (
    <>
      <span className="topbar-sep" aria-hidden="true" />
      <button type="button" onClick={showCheck} disabled={!info || busy} title="Check every rule of the format; repair what is safe">
        Check
      </button>
      <CheckDialog />
    </>
  );
}
