/** The hex view toolbar's pieces every hex view shares: the byte space switch and the Go to form. */
import { useState } from "react";
import type { GotoResult } from "../lib/gotoTarget";
import type { ByteSpace } from "../store/engineApi";
import { land } from "./hexNav";

/** "Virtual disk" or "Raw file": which bytes the grid shows. */
export function ByteSpaceSwitch({ space, onPick }: { space: ByteSpace; onPick: (space: ByteSpace) => void }) {
  return (
    <div role="radiogroup" aria-label="Byte space" className="segmented">
      {(["virtual", "file"] as const).map((s) => (
        <button key={s} type="button" role="radio" aria-checked={space === s} onClick={() => onPick(s)}>
          {s === "virtual" ? "Virtual disk" : "Raw file"}
        </button>
      ))}
    </div>
  );
}

/**
 * Go to (Ctrl+G focuses its input): the text resolved by the view's own targets; a target found
 * lands with its row at the top of the grid, which then takes the focus.
 */
export function GotoForm(p: { resolve: (text: string) => GotoResult; placeholder: string; title: string }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = () => {
    const r = p.resolve(text);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    setError(null);
    land(r.space, r.offset);
    document.querySelector<HTMLElement>(".hex-grid")?.focus();
  };
  return (
    <form
      className="goto"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label htmlFor="goto-input">Go to offset</label>
      <input
        id="goto-input"
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={p.placeholder}
        title={p.title}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? "goto-error" : undefined}
        spellCheck={false}
      />
      <button type="submit">Go</button>
      {error && (
        <span id="goto-error" className="danger" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
