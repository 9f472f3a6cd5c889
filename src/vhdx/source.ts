/**
 * A source of bytes read front to back: a file, stdin, a Blob's stream. The engine pulls from it
 * a block at a time, so what a write holds in memory is bounded by the block size, never by the
 * input's length. Hosts adapt their streams (Node files and stdin in src/cli, Blob streams in the
 * worker); the engine knows only this interface.
 */
export interface ByteSource {
  /** Total bytes when known before reading (a file), else undefined (a pipe). */
  readonly size?: number;
  /**
   * Fills `buf` from its start with the next bytes and resolves to how many it filled: all of
   * `buf` unless the source ends first; 0 once it has ended.
   */
  read(buf: Uint8Array): Promise<number>;
}

/** A source over bytes already in memory. */
export function bytesSource(data: Uint8Array): ByteSource {
  let at = 0;
  return {
    size: data.length,
    async read(buf) {
      const n = Math.min(buf.length, data.length - at);
      buf.set(data.subarray(at, at + n));
      at += n;
      return n;
    },
  };
}

/**
 * A source over pieces of any size (Node's stdin, a ReadableStream's chunks). A piece larger than
 * the caller's buffer is kept and handed out over later reads; nothing else is buffered.
 */
export function piecesSource(pieces: AsyncIterable<Uint8Array>, size?: number): ByteSource {
  const it = pieces[Symbol.asyncIterator]();
  let rest: Uint8Array | null = null;
  let ended = false;
  return {
    size,
    async read(buf) {
      let filled = 0;
      while (filled < buf.length) {
        if (!rest || rest.length === 0) {
          if (ended) break;
          const r = await it.next();
          if (r.done) {
            ended = true;
            break;
          }
          rest = r.value;
          continue;
        }
        const n = Math.min(rest.length, buf.length - filled);
        buf.set(rest.subarray(0, n), filled);
        rest = rest.subarray(n);
        filled += n;
      }
      return filled;
    },
  };
}
