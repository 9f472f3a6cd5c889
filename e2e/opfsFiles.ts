/**
 * The app opens the bundled sample as a picked file: the sample is copied into OPFS under `name`
 * and window.showOpenFilePicker is stubbed to answer with that real FileSystemFileHandle, so
 * "Open file" gets what the system picker would give (a handle that can be written). And the way
 * back: an OPFS file the app wrote, copied out to Node.
 */
import { expect, type Page } from "@playwright/test";
import { writeFileSync } from "node:fs";

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

/** An OPFS file (at the root or in a folder: "dir/name") written to `dest` in Node. */
export async function fromOpfs(page: Page, path: string, dest: string): Promise<string> {
  const b64 = await page.evaluate(async (path) => {
    let d = await navigator.storage.getDirectory();
    const parts = path.split("/");
    for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p);
    const bytes = new Uint8Array(
      await (await (await d.getFileHandle(parts[parts.length - 1])).getFile()).arrayBuffer(),
    );
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, path);
  writeFileSync(dest, Buffer.from(b64, "base64"));
  return dest;
}
