/** The hex view's named bookmarks of the byte space on screen: add at the cursor (Ctrl+B), jump, rename, delete. */
import { useEffect, useRef, useState } from "react";
import {
  addBookmark,
  bookmarkKey,
  loadBookmarks,
  removeBookmark,
  renameBookmark,
  saveBookmarks,
  type Bookmark,
} from "../lib/bookmarks";
import { hex } from "../lib/format";
import type { ByteSpace } from "../store/engineApi";
import { useApp } from "../store/store";
import { land } from "./hexNav";

export function Bookmarks({ space, cursor }: { space: ByteSpace; cursor: number }) {
  const fileName = useApp((s) => s.fileName);
  const diskId = useApp((s) => s.info?.virtualDiskId);
  const key = fileName && diskId ? bookmarkKey(fileName, diskId) : null;
  const [list, setList] = useState<Bookmark[]>([]);
  const [renaming, setRenaming] = useState<{ id: string; text: string } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const cursorRef = useRef(cursor);
  cursorRef.current = cursor;

  useEffect(() => {
    setList(key ? loadBookmarks(key) : []);
    setRenaming(null);
  }, [key]);

  const update = (next: Bookmark[]) => {
    setList(next);
    if (key && !saveBookmarks(key, next))
      setNote("The browser refused to keep the bookmarks (storage blocked or full).");
    else setNote(null);
  };

  const add = () => {
    const at = cursorRef.current;
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const name = `${space === "virtual" ? "Disk" : "File"} ${hex(at)}`;
    update(addBookmark(list, { id, space, offset: at, name }));
    setRenaming({ id, text: name });
  };
  const addRef = useRef(add);
  addRef.current = add;

  // Ctrl+B (Cmd+B) anywhere in the hex view adds a bookmark at the cursor.
  useEffect(() => {
    const keydown = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "b") {
        e.preventDefault();
        addRef.current();
      }
    };
    window.addEventListener("keydown", keydown);
    return () => window.removeEventListener("keydown", keydown);
  }, []);

  const shown = list.filter((b) => b.space === space);
  const finishRename = () => {
    if (renaming) update(renameBookmark(list, renaming.id, renaming.text));
    setRenaming(null);
  };

  return (
    <section aria-labelledby="bookmarks-h" className="bookmarks">
      <h2 id="bookmarks-h">Bookmarks ({space === "virtual" ? "virtual disk" : "raw file"})</h2>
      <button type="button" onClick={add} disabled={!key} title="Ctrl+B">
        Add at cursor
      </button>
      {shown.length === 0 ? (
        <p className="muted small">None yet. Ctrl+B marks the byte at the cursor.</p>
      ) : (
        <ul className="bookmark-list" aria-label="Bookmarks">
          {shown.map((b) => (
            <li key={b.id}>
              {renaming?.id === b.id ? (
                <input
                  aria-label={`Name of the bookmark at ${hex(b.offset)}`}
                  value={renaming.text}
                  autoFocus
                  onFocus={(e) => e.target.select()}
                  onChange={(e) => setRenaming({ id: b.id, text: e.target.value })}
                  onKeyDown={(e) => {
                    if (e.key === "Enter") finishRename();
                    else if (e.key === "Escape") setRenaming(null);
                  }}
                  onBlur={finishRename}
                />
              ) : (
                <button
                  type="button"
                  className="link"
                  onClick={() => land(b.space, b.offset)}
                  title={`Go to ${hex(b.offset)}`}
                >
                  {b.name}
                </button>
              )}{" "}
              <code className="muted">{hex(b.offset)}</code>
              <span className="bookmark-actions">
                <button
                  type="button"
                  className="link"
                  aria-label={`Rename ${b.name}`}
                  onClick={() => setRenaming({ id: b.id, text: b.name })}
                >
                  Rename
                </button>{" "}
                <button
                  type="button"
                  className="link"
                  aria-label={`Delete ${b.name}`}
                  onClick={() => update(removeBookmark(list, b.id))}
                >
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      {note && (
        <p className="danger small" role="alert">
          {note}
        </p>
      )}
    </section>
  );
}
