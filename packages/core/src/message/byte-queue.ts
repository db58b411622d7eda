/**
 * A FIFO of byte chunks that hands out contiguous views of its front, merging chunks only when a
 * view spans them, and then only the bytes the view needs: the rest stay as they came.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.byteLength;
  }

  /**
   * A contiguous view of the first `min(n, length)` bytes. A view inside the first chunk costs
   * nothing; otherwise exactly those bytes are merged into one new chunk (each byte is merged at
   * most once per call that needs it, and a frame is asked for once it is whole).
   */
  peek(n: number): Uint8Array {
    const want = Math.min(n, this.#length);
    const first = this.#chunks[0];
    if (!first) return new Uint8Array(0);
    if (first.byteLength >= want) return first.subarray(0, want);
    const merged = new Uint8Array(want);
    let o = 0;
    let i = 0;
    while (o < want) {
      const c = this.#chunks[i]!;
      const take = Math.min(c.byteLength, want - o);
      merged.set(take === c.byteLength ? c : c.subarray(0, take), o);
      o += take;
      if (take === c.byteLength) i++;
      else this.#chunks[i] = c.subarray(take);
    }
    this.#chunks.splice(0, i, merged);
    return merged;
  }

  /** Drops the first `n` bytes (n ≤ length). */
  consume(n: number): void {
    this.#length -= n;
    while (n > 0) {
      const c = this.#chunks[0]!;
      if (c.byteLength <= n) {
        this.#chunks.shift();
        n -= c.byteLength;
      } else {
        this.#chunks[0] = c.subarray(n);
        n = 0;
      }
    }
  }

  /** Removes every chunk (their bytes belong to the caller; nothing here is secret). */
  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }
}
