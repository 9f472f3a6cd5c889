/**
 * The hex view's find bar: Ctrl+F opens it, Enter or F3 finds the next match from the cursor,
 * Shift+Enter or Shift+F3 the previous one, Esc closes it. The search runs in the engine worker
 * (src/worker/find.ts) over the space the view shows, with progress and Cancel; a match lands at
 * the top of the view with its bytes selected. What is typed is checked here first (the same
 * parser the worker uses), so a mistake is named before anything is searched.
 */
import { useEffect, useRef, useState } from "react";
import { parseQuery, type FindEncoding, type FindQuery } from "../../find/pattern";
import { errorText } from "../toolbox/checkStore";
import { engineClient } from "../store/engineConnection";
import type { ByteSpace } from "../store/engineApi";
import { hex } from "../lib/format";

const ENCODINGS: { value: FindEncoding; label: string }[] = [
  { value: "hex", label: "Hex bytes" },
  { value: "ascii", label: "ASCII" },
  { value: "utf8", label: "UTF-8" },
  { value: "utf16le", label: "UTF-16LE" },
];

export interface FindBarProps {
  space: ByteSpace;
  cursor: number;
  /** The selection's start and length, when it is the match found last (F3 then goes past it). */
  selection: { start: number; length: number } | null;
  onMatch: (offset: number, length: number) => void;
}

type Status =
  | { kind: "idle" }
  | { kind: "running"; fraction: number; backward: boolean }
  | { kind: "found"; offset: number; length: number }
  | { kind: "none"; backward: boolean; from: number }
  | { kind: "error"; text: string };

export function FindBar(p: FindBarProps) {
  const [open, setOpen] = useState(false);
  const [encoding, setEncoding] = useState<FindEncoding>("hex");
  const [text, setText] = useState("");
  const [ignoreCase, setIgnoreCase] = useState(false);
  const [status, setStatus] = useState<Status>({ kind: "idle" });
  const input = useRef<HTMLInputElement>(null);
  const abort = useRef<AbortController | null>(null);
  const query: FindQuery = { encoding, text, ignoreCase: encoding !== "hex" && ignoreCase };
  const parsed = text ? parseQuery(query) : null;
  const problem = parsed && !parsed.ok ? parsed.error : null;

  // The latest props and query for the keyboard handler, which is installed once.
  const live = useRef({ p, query, open });
  live.current = { p, query, open };

  const run = async (backward: boolean) => {
    const { p: props, query: q } = live.current;
    const client = engineClient();
    const pq = parseQuery(q);
    if (!client || !pq.ok || abort.current) {
      if (!pq.ok && q.text) setStatus({ kind: "error", text: pq.error });
      return;
    }
    // Past the match found last (so F3 moves on); else from the cursor itself.
    const onMatch = props.selection !== null;
    const from = backward ? props.cursor - 1 : onMatch ? props.cursor + 1 : props.cursor;
    const ctl = new AbortController();
    abort.current = ctl;
    setStatus({ kind: "running", fraction: 0, backward });
    try {
      const m = await client.call("find", [{ space: props.space, query: q, from, backward }], {
        signal: ctl.signal,
        onProgress: (e) => setStatus({ kind: "running", fraction: e.fraction, backward }),
      });
      if (m) {
        setStatus({ kind: "found", offset: m.offset, length: m.length });
        props.onMatch(m.offset, m.length);
      } else setStatus({ kind: "none", backward, from });
    } catch (e) {
      setStatus(ctl.signal.aborted ? { kind: "idle" } : { kind: "error", text: errorText(e) });
    } finally {
      abort.current = null;
    }
  };
  const runRef = useRef(run);
  runRef.current = run;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && (e.key === "f" || e.key === "F")) {
        e.preventDefault();
        setOpen(true);
        // After the bar renders.
        requestAnimationFrame(() => {
          input.current?.focus();
          input.current?.select();
        });
      } else if (e.key === "F3") {
        e.preventDefault();
        if (!live.current.query.text) {
          setOpen(true);
          requestAnimationFrame(() => input.current?.focus());
          return;
        }
        void runRef.current(e.shiftKey);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // Another space or another image: a search in flight no longer applies.
  useEffect(() => () => abort.current?.abort(), [p.space]);

  if (!open) return null;
  const running = status.kind === "running";
  return (
    <form
      className="find-bar"
      role="search"
      aria-label="Find"
      onSubmit={(e) => {
        e.preventDefault();
        void run(false);
      }}
    >
      <label htmlFor="find-input">Find</label>
      <select aria-label="Find as" value={encoding} onChange={(e) => setEncoding(e.target.value as FindEncoding)}>
        {ENCODINGS.map((x) => (
          <option key={x.value} value={x.value}>
            {x.label}
          </option>
        ))}
      </select>
      <input
        id="find-input"
        ref={input}
        value={text}
        spellCheck={false}
        placeholder={encoding === "hex" ? "4D 5A ?? 00" : "text"}
        aria-invalid={problem ? true : undefined}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && e.shiftKey) {
            e.preventDefault();
            void run(true);
          } else if (e.key === "Escape") {
            e.preventDefault();
            abort.current?.abort();
            setOpen(false);
            document.querySelector<HTMLElement>(".hex-grid")?.focus();
          }
        }}
      />
      <label className="find-case" title={encoding === "hex" ? "Hex patterns match bytes exactly" : undefined}>
        <input
          type="checkbox"
          checked={ignoreCase && encoding !== "hex"}
          disabled={encoding === "hex"}
          onChange={(e) => setIgnoreCase(e.target.checked)}
        />{" "}
        Ignore case
      </label>
      <button type="button" onClick={() => void run(true)} disabled={running || !text || !!problem} title="Shift+F3">
        Previous
      </button>
      <button type="submit" disabled={running || !text || !!problem} title="F3">
        Next
      </button>
      {running && (
        <>
          <progress max={1} value={status.fraction} aria-label="Find progress" />
          <button type="button" onClick={() => abort.current?.abort()}>
            Cancel
          </button>
        </>
      )}
      <span className="find-status" role="status" aria-live="polite">
        {problem ? (
          <span className="danger">{problem}</span>
        ) : status.kind === "found" ? (
          <>
            Found {status.length} {status.length === 1 ? "byte" : "bytes"} at <code>{hex(status.offset)}</code>
          </>
        ) : status.kind === "none" ? (
          <>
            No match {status.backward ? "before" : "from"} <code>{hex(Math.max(0, status.from))}</code>{" "}
            {status.backward ? "to the start" : "to the end"} of the {p.space === "virtual" ? "virtual disk" : "file"}.
          </>
        ) : status.kind === "error" ? (
          <span className="danger">{status.text}</span>
        ) : running ? (
          <>Searching {status.backward ? "backward" : "forward"}…</>
        ) : null}
      </span>
      <button
        type="button"
        className="link"
        aria-label="Close find"
        onClick={() => {
          abort.current?.abort();
          setOpen(false);
        }}
      >
        ✕
      </button>
    </form>
  );
}
