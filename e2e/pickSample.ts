/**
 * The app opens the bundled sample as a picked file: the sample is copied into OPFS under `name`
 * and window.showOpenFilePicker is stubbed to answer with that real FileSystemFileHandle, so
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
