/**
 * A framed body read on a {@link FramePool}: {@link StreamDecryptor}'s frame loop when it is given
 * `parallel`. The main thread copies body bytes into batches of whole frames (finding each frame's
 * size from its first bytes, as the serial loop does), gives each batch's bytes to the signature
 * in order, and sends it to a worker; batches come back authenticated, in any order, and leave in
 * order. A batch that fails to authenticate fails the stream with nothing of it released.
 *
 * Memory: the batch being filled, the batches in flight (at most `maxInFlight`) and, after the
 * final frame, at most a footer.
 */
import { EnvelopeError, malformed } from '../errors.js';
import { MAX_FOOTER_LENGTH, regularFrameSize } from '../format/framing.js';
import { getSuite } from '../suites.js';
import type { DecryptSession } from '../message/decrypt-session.js';
import { ByteQueue } from '../message/byte-queue.js';
import type { FrameBatches, OpenedBatch } from './frame-batches.js';
import { InOrder, batchFrames, type ParallelOptions } from './in-order.js';

export class BatchReader {
  readonly #session: DecryptSession;
  readonly #batches: FrameBatches;
  readonly #inFlight: InOrder<OpenedBatch>;
  readonly #perBatch: number;
  readonly #capacity: number;
  readonly #frameLength: number;
  /** After the final frame: the footer. */
  readonly #rest = new ByteQueue();
  /** The batch being filled: `[0, #filled)` holds body bytes, `[0, #scanned)` whole frames. */
  #input: Uint8Array | undefined;
  #filled = 0;
  #scanned = 0;
  #frames = 0;
  #seq = 1;
  #finalSent = false;

  /** `session` must be a framed message's; the reader starts it on the pool's workers. */
  constructor(session: DecryptSession, o: ParallelOptions) {
    this.#session = session;
    const info = session.info;
    this.#frameLength = info.frameLength;
    this.#perBatch = batchFrames(o, this.#frameLength);
    // Whole regular frames, plus the 8 bytes more a full final frame takes should it end the batch.
    this.#capacity = this.#perBatch * regularFrameSize(getSuite(info.suiteId), this.#frameLength) + 8;
    this.#inFlight = new InOrder(o, o.pool.size);
    this.#batches = session.frameBatches(o.pool);
  }

  /** Body bytes held here (the batch being filled, the footer). */
  get buffered(): number {
    return this.#filled + this.#rest.length;
  }

  /** Accepts body bytes; resolves with the batches that may be released now, in order. */
  async push(chunk: Uint8Array): Promise<OpenedBatch[]> {
    this.#take(chunk);
    return this.#inFlight.ready();
  }

  /** The input ended: every batch still out, in order, and the bytes after the final frame. */
  async end(): Promise<{ batches: OpenedBatch[]; rest: Uint8Array }> {
    if (!this.#finalSent) throw malformed('truncated message body');
    const batches = await this.#inFlight.all();
    return { batches, rest: this.#rest.peek(this.#rest.length) };
  }

  /** Copies the bytes held after the final frame (a footer) so that no pushed chunk is referenced. */
  detach(): void {
    this.#rest.detach();
  }

  /** Ends the message on the workers (they wipe the key) and drops what is still out. Idempotent. */
  dispose(): void {
    this.#batches.end();
    this.#inFlight.abandon();
    this.#rest.clear();
  }

  #take(chunk: Uint8Array): void {
    let c = 0;
    while (c < chunk.byteLength) {
      if (this.#finalSent) {
        this.#rest.push(chunk.subarray(c));
        // Only a footer may follow the final frame: refuse more as soon as it arrives.
        const footer = this.#session.footerSize(this.#rest.peek(2), 0);
        if (this.#rest.length > (footer ?? MAX_FOOTER_LENGTH)) throw malformed('trailing bytes after the message');
        return;
      }
      this.#input ??= this.#batches.takeInput(this.#capacity);
      const take = Math.min(this.#capacity - this.#filled, chunk.byteLength - c);
      // A batch has room for its frames and a final frame's extra fields, so it always holds the
      // whole next frame and is sent before it can fill up.
      if (take === 0) throw new EnvelopeError('ENVELOPE_INTERNAL', 'frame batch full');
      this.#input.set(chunk.subarray(c, c + take), this.#filled);
      this.#filled += take;
      c += take;
      this.#scan();
    }
  }

  /** Finds whole frames in the batch; sends it once it has its frames or ends with the final frame. */
  #scan(): void {
    const view = this.#input!.subarray(0, this.#filled);
    while (this.#frames < this.#perBatch) {
      const size = this.#session.frameSize(view, this.#scanned);
      if (size === undefined || this.#scanned + size > this.#filled) return;
      const final = isFinalFrame(view, this.#scanned);
      this.#scanned += size;
      this.#frames++;
      if (final) return this.#send(true);
    }
    this.#send(false);
  }

  #send(final: boolean): void {
    const input = this.#input!;
    const length = this.#scanned;
    // The bytes after the last whole frame start the next batch (or, after the final frame, the footer).
    const carry = input.slice(length, this.#filled);
    this.#session.adoptFrames(input.subarray(0, length));
    const seq = this.#seq;
    const frames = this.#frames;
    this.#seq += frames;
    this.#input = undefined;
    this.#filled = this.#scanned = this.#frames = 0;
    if (final) this.#finalSent = true;
    this.#inFlight.add(this.#batches.open(input, length, seq, frames * this.#frameLength));
    if (carry.byteLength) this.#take(carry);
  }
}

/** The frame at `offset` starts with the final-frame marker (spec: data-format/message-body.md#final-frame). */
function isFinalFrame(b: Uint8Array, offset: number): boolean {
  return b[offset] === 0xff && b[offset + 1] === 0xff && b[offset + 2] === 0xff && b[offset + 3] === 0xff;
}
