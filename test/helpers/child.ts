/** A differencing child made in memory over an open parent, as the write and merge tests start. */
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { openImage, type VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";

/**
 * An empty differencing child of `parent` (1 MiB blocks unless told), its locator naming
 * `relativePath`, open for writing with the parent attached.
 */
export async function memoryChild(
  parent: VhdxImage,
  o: { blockSize?: number; relativePath?: string } = {},
): Promise<{ mem: MemoryBackend; child: VhdxImage }> {
  const mem = new MemoryBackend();
  await createImage(mem, {
    type: "differencing",
    blockSize: o.blockSize ?? 1024 * 1024,
    parent: parentInfoOf(parent, { relativePath: o.relativePath ?? "p.vhdx" }),
  });
  const child = await openImage(mem, { readOnly: false });
  child.parent = parent;
  return { mem, child };
}
