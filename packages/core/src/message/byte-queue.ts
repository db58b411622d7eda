/** A FIFO of byte chunks that hands out contiguous views, merging chunks only when needed. */
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

  /** A contiguous view of the first `n` bytes (n ≤ length); merges leading chunks if they are split. */
  contiguous(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.byteLength >= n) return first;
    const merged = new Uint8Array(this.#length);
    let o = 0;
    for (const c of this.#chunks) {
      merged.set(c, o);
      o += c.byteLength;
    }
    this.#chunks = [merged];
    return merged;
  }

  /** Drops the first `n` bytes. */
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
}
