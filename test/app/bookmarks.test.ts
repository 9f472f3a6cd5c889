import { describe, expect, it } from "vitest";
import {
  addBookmark,
  bookmarkKey,
  MAX_BOOKMARKS,
  parseBookmarks,
  removeBookmark,
  renameBookmark,
  type Bookmark,
} from "../../src/app/lib/bookmarks";

const bm = (id: string, space: "virtual" | "file", offset: number, name = id): Bookmark => ({
  id,
  space,
  offset,
  name,
});

describe("bookmarks", () => {
  it("keys a file by its VirtualDiskId and its name, a working copy with its original", () => {
    const id = "6C1B3E0A-0000-4000-8000-000000000001";
    expect(bookmarkKey("disk.vhdx", id)).toBe(bookmarkKey("disk.vhdx (working copy)", id.toLowerCase()));
    expect(bookmarkKey("disk.vhdx", id)).not.toBe(bookmarkKey("other.vhdx", id));
    expect(bookmarkKey("disk.vhdx", id)).not.toBe(bookmarkKey("disk.vhdx", "6c1b3e0a-0000-4000-8000-000000000002"));
  });
  it("adds in order of space and offset, renames, deletes", () => {
    let l = addBookmark([], bm("a", "file", 0x30000));
    l = addBookmark(l, bm("b", "virtual", 0x200));
    l = addBookmark(l, bm("c", "virtual", 0x100));
    expect(l.map((b) => b.id)).toEqual(["c", "b", "a"]);
    l = renameBookmark(l, "b", "  GPT header ");
    expect(l[1].name).toBe("GPT header");
    expect(renameBookmark(l, "b", "   ")[1].name).toBe("GPT header"); // an empty name keeps the old one
    l = removeBookmark(l, "c");
    expect(l.map((b) => b.id)).toEqual(["b", "a"]);
  });
  it("reads back only well-formed entries, and at most MAX_BOOKMARKS", () => {
    const stored = JSON.stringify([
      bm("x", "virtual", 512, "boot"),
      { id: "y", space: "elsewhere", offset: 1, name: "n" },
      { id: "z", space: "file", offset: -4, name: "n" },
      { id: "w", space: "file", offset: 2 ** 60, name: "n" },
      "junk",
      null,
    ]);
    expect(parseBookmarks(stored)).toEqual([bm("x", "virtual", 512, "boot")]);
    expect(parseBookmarks("{not json")).toEqual([]);
    expect(parseBookmarks(JSON.stringify({ a: 1 }))).toEqual([]);
    const many = Array.from({ length: MAX_BOOKMARKS + 10 }, (_, i) => bm(`k${i}`, "file", i));
    expect(parseBookmarks(JSON.stringify(many))).toHaveLength(MAX_BOOKMARKS);
    expect(addBookmark(many.slice(0, MAX_BOOKMARKS), bm("new", "file", 1))).toHaveLength(MAX_BOOKMARKS);
  });
});
