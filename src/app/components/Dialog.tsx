/** A modal built on <dialog>: the browser traps focus, Escape closes, the opener regains focus. */
import { useEffect, useRef, type ReactNode } from "react";

export function Dialog({
  title,
  open,
  onClose,
  children,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-label={title}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2>{title}</h2>
      {open && children}
    </dialog>
  );
}

/** A yes/no question for actions that write to the image. */
export function ConfirmDialog(props: {
  title: string;
  open: boolean;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  return (
    <Dialog title={props.title} open={props.open} onClose={props.onClose}>
      <div className="dialog-body">{props.children}</div>
      <div className="dialog-actions">
        <button type="button" onClick={props.onClose} autoFocus>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => {
            props.onClose();
            props.onConfirm();
          }}
        >
          {props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/**
 * A finished operation's actions: places to look at the result (each closes the dialog, then
 * goes there), and Close, the default.
 */
export function DoneActions({ close, places }: { close: () => void; places: readonly [string, () => void][] }) {
  return (
    <>
      {places.map(([label, go]) => (
        <button
          key={label}
          type="button"
          onClick={() => {
            close();
            go();
          }}
        >
          {label}
        </button>
      ))}
      <button type="button" className="primary" onClick={close} autoFocus>
        Close
      </button>
    </>
  );
}
