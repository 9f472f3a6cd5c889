import { MiB } from "../bytes";
import { RandomAccess } from "../io";

const ZERO_CHUNK = new Uint8Array(MiB);

/**
 * Zeros [offset, offset+length) as a zero descriptor directs (§2.3.1.2): written where the file
 * has bytes, and past its end by growing the file, which reads as zeros without writing them.
 */
export async function writeZeros(io: RandomAccess, offset: number, length: number): Promise<void> {
  if (length <= 0) return;
  if (io.writeZeros) return io.writeZeros(offset, length);
  const end = offset + length;
  const size = await io.size();
  const inFileEnd = Math.min(end, size);
  for (let pos = offset; pos < inFileEnd; pos += ZERO_CHUNK.length) {
    await io.write(pos, ZERO_CHUNK.subarray(0, Math.min(ZERO_CHUNK.length, inFileEnd - pos)));
  }
  if (end > size) await io.truncate(end);
}
