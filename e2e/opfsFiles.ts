/**
 * Files between Node and the page's origin-private file system (OPFS), carried by the browser
 * itself: into OPFS through a file input given the local path, out of it as a download. Neither
 * goes through a base64 string passed over the DevTools protocol, which costs seconds per
 * megabyte on a busy machine.
 *
 * The app opens the bundled sample as a picked file too: the sample is copied into OPFS under
 * `name` and window.showOpenFilePicker is stubbed to answer with that real FileSystemFileHandle, so
 * "Open file" gets what the system picker would give (a handle that can be written).
 */
import { expect, type Page } from "@playwright/test";

export async function openSampleAsPicked(page: Page, name: string): Promise<void> {
  await page.goto("/");
  await page.evaluate(async (fileName) => {
    const bytes = await (await fetch("sample.vhdx")).arrayBuffer();
    const root = await navigator.storage.getDirectory();
    const handle = await root.getFileHandle(fileName, { create: true });
    const w = await handle.createWritable();
    await w.write(bytes);
    await w.close();
    (window as unknown as { showOpenFilePicker: () => Promise<FileSystemFileHandle[]> }).showOpenFilePicker =
      async () => [handle];
  }, name);
  await page.getByRole("button", { name: "Open file" }).click();
  await expect(page.getByRole("contentinfo", { name: "Status" })).toContainText(name);
}

/**
 * A local file copied into OPFS at `path` (at the root or in folders: "dir/name", folders made as
 * needed), replacing what was there. The page reads it from a file input of its own, removed after.
 */
export async function toOpfs(page: Page, path: string, local: string): Promise<void> {
  const input = await page.evaluateHandle(() => {
    const i = document.createElement("input");
    i.type = "file";
    i.hidden = true;
    document.body.append(i);
    return i;
  });
  try {
    await input.setInputFiles(local);
    await input.evaluate(async (i, path) => {
      const file = i.files?.[0];
      if (!file) throw new Error("toOpfs: the file input holds no file");
      let d = await navigator.storage.getDirectory();
      const parts = path.split("/");
      for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
      const w = await (await d.getFileHandle(parts[parts.length - 1], { create: true })).createWritable();
      await file.stream().pipeTo(w);
    }, path);
  } finally {
    await input.evaluate((i) => i.remove());
    await input.dispose();
  }
}

/** An OPFS file (at the root or in a folder: "dir/name") written to `dest` in Node. */
export async function fromOpfs(page: Page, path: string, dest: string): Promise<string> {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.evaluate(async (path) => {
      let d = await navigator.storage.getDirectory();
      const parts = path.split("/");
      for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p);
      const file = await (await d.getFileHandle(parts[parts.length - 1])).getFile();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(file);
      a.download = file.name;
      (window as unknown as { fromOpfsUrl?: string }).fromOpfsUrl = a.href;
      a.click();
    }, path),
  ]);
  await download.saveAs(dest);
  await download.delete();
  await page.evaluate(() => {
    const w = window as unknown as { fromOpfsUrl?: string };
    if (w.fromOpfsUrl) URL.revokeObjectURL(w.fromOpfsUrl);
    delete w.fromOpfsUrl;
  });
  return dest;
}
