/**
 * A FIFO of byte chunks that hands out contiguous views of its front, merging chunks only when a
 * view spans them, and then only the bytes the view needs: the rest stay as they came.
 *
 * Merged bytes go into one buffer the queue owns and reuses (a frame that spans two reads costs
 * a copy into memory already touched, not a fresh allocation per frame), and {@link detach}
 * moves whatever is still queued there, so that the caller may reuse the chunks it pushed: a
 * file read into one buffer over and over (issue 16: on this VM every first touch of a page
 * costs more than the copy).
 *
 * Invariant: only the front chunk can be a view of the owned buffer.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;
  /** Storage for merged and detached bytes (ciphertext; nothing here is secret). */
  #own: Uint8Array | undefined;

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
   * nothing; otherwise exactly those bytes are merged into the queue's own buffer (each byte is
   * merged at most once per call that needs it, and a frame is asked for once it is whole). The
   * view is valid until the next call that changes the queue.
   */
  peek(n: number): Uint8Array {
    const want = Math.min(n, this.#length);
    const first = this.#chunks[0];
    if (!first) return new Uint8Array(0);
    if (first.byteLength >= want) return first.subarray(0, want);
    return this.#gather(want);
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

  /**
   * Makes room for `n` bytes in the queue's own buffer ahead of time (the size of the piece being
   * waited for), so that {@link detach} and merges fill it without growing it step by step.
   */
  reserve(n: number): void {
    if (this.#own && this.#own.byteLength >= n) return;
    const front = this.#ownFront();
    const grown = new Uint8Array(n);
    if (front) {
      grown.set(front);
      this.#chunks[0] = grown.subarray(0, front.byteLength);
    }
    this.#own = grown;
  }

  /**
   * Copies every byte still queued into the queue's own buffer: from now on the queue holds no
   * reference to a chunk the caller pushed.
   */
  detach(): void {
    const first = this.#chunks[0];
    if (!first) return;
    if (this.#chunks.length === 1 && this.#ownFront() === first) return;
    this.#gather(this.#length);
  }

  /** Removes every chunk (their bytes belong to the caller; nothing here is secret). */
  clear(): void {
    this.#chunks = [];
    this.#length = 0;
    this.#own = undefined;
  }

  /** The front chunk, if it is a view of the owned buffer. */
  #ownFront(): Uint8Array | undefined {
    const first = this.#chunks[0];
    return first && this.#own && first.buffer === this.#own.buffer ? first : undefined;
  }

  /** Puts the first `want` bytes (more than the front chunk holds) at the start of the owned buffer. */
  #gather(want: number): Uint8Array {
    const front = this.#ownFront();
    let dst = this.#own;
    let o = 0;
    let i = 0;
    if (!dst || dst.byteLength < want) {
      // Grown at least twofold, so that repeated detaches of a growing piece stay linear.
      dst = new Uint8Array(Math.max(want, 2 * (dst?.byteLength ?? 0), 4096));
    }
    if (front) {
      // Already ours: move it to the start (copyWithin is a memmove) or into the grown buffer.
      if (dst === this.#own) dst.copyWithin(0, front.byteOffset - dst.byteOffset, front.byteOffset - dst.byteOffset + front.byteLength);
      else dst.set(front);
      o = front.byteLength;
      i = 1;
    }
    while (o < want) {
      const c = this.#chunks[i]!;
      const take = Math.min(c.byteLength, want - o);
      dst.set(take === c.byteLength ? c : c.subarray(0, take), o);
      o += take;
      if (take === c.byteLength) i++;
      else this.#chunks[i] = c.subarray(take);
    }
    this.#own = dst;
    const view = dst.subarray(0, want);
    this.#chunks.splice(0, i, view);
    return view;
  }
}
