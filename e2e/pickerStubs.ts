/**
 * The app with its pickers answered from OPFS: files put into the origin-private file system,
 * window.showOpenFilePicker answering from a queue of names, window.showSaveFilePicker with a new
 * file of the suggested name. What the pickers give is a real FileSystemFileHandle, as the system
 * pickers would give.
 */
import { expect, type Page } from "@playwright/test";
import { toOpfs } from "./opfsFiles";

/** Loads the app; a navigation the service worker starts meanwhile is waited out, not an error. */
export async function gotoApp(page: Page): Promise<void> {
  try {
    await page.goto("/");
  } catch (e) {
    if (!String(e).includes("interrupted by another navigation")) throw e;
    await page.waitForLoadState("load");
  }
}

/** Puts files (name → local path) at the OPFS root and stubs the pickers. */
export async function stubPickers(page: Page, files: Record<string, string>): Promise<void> {
  await gotoApp(page);
  for (const [name, path] of Object.entries(files)) await toOpfs(page, name, path);
  await page.evaluate(() => {
    const win = window as unknown as Record<string, unknown> & { pickQueue: string[] };
    win.pickQueue = [];
    win.showOpenFilePicker = async () => {
      let dir = await navigator.storage.getDirectory();
      const parts = win.pickQueue.shift()!.split("/");
      for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p);
      return [await dir.getFileHandle(parts[parts.length - 1])];
    };
    win.showSaveFilePicker = async (o: { suggestedName: string }) => {
      const root = await navigator.storage.getDirectory();
      return root.getFileHandle(win.pickQueue.shift() ?? o.suggestedName, { create: true });
    };
  });
}

/** The next open (or save) pickers answer with these OPFS paths, in turn. */
export async function willPick(page: Page, ...names: string[]): Promise<void> {
  await page.evaluate((n) => (window as unknown as { pickQueue: string[] }).pickQueue.push(...n), names);
}

export async function openPicked(page: Page, name: string): Promise<void> {
  await willPick(page, name);
  await page.getByRole("button", { name: "Open file" }).click();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText(name.split("/").pop()!);
}

/** SHA-256 (hex) of an OPFS file, computed in the page; null when there is no such file. */
export async function opfsHash(page: Page, path: string): Promise<string | null> {
  return page.evaluate(async (path) => {
    try {
      let d = await navigator.storage.getDirectory();
      const parts = path.split("/");
      for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p);
      const f = await (await d.getFileHandle(parts[parts.length - 1])).getFile();
      const h = new Uint8Array(await crypto.subtle.digest("SHA-256", await f.arrayBuffer()));
      return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
    } catch {
      return null;
    }
  }, path);
}

/** Names of the files in an OPFS folder ("" for the root). */
export async function opfsNames(page: Page, folder: string): Promise<string[]> {
  return page.evaluate(async (folder) => {
    let d = await navigator.storage.getDirectory();
    for (const p of folder.split("/").filter(Boolean)) d = await d.getDirectoryHandle(p, { create: true });
    const names: string[] = [];
    for await (const [name, h] of d as unknown as AsyncIterable<[string, FileSystemHandle]>)
      if (h.kind === "file") names.push(name);
    return names.sort();
  }, folder);
}
