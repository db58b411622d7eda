/**
 * One message's frames on a {@link FramePool}: hands each worker a copy of the derived key,
 * sends batches of frames to seal or open, and ends the message (every worker wipes its copy).
 *
 * Buffers: a batch's input travels to the worker and back by transfer, then is reused for the
 * next batch (input buffers still held are wiped when the message ends); each output is a new
 * ArrayBuffer the caller keeps (its pages are first touched by the worker, off the main thread).
 */
import { EnvelopeError, type ErrorCode } from '../errors.js';
import type { AlgorithmSuite } from '../suites.js';
import type { FramePool } from './frame-pool.js';
import type { JobDone } from './protocol.js';

export interface SealedBatch {
  /** The frames, in order. The caller owns the buffer. */
  readonly frames: Buffer;
}

export interface OpenedBatch {
  /** Authenticated plaintext of every frame of the batch. The caller owns the buffer. */
  readonly plaintext: Buffer;
  /** The batch ended with the final frame. */
  readonly final: boolean;
}

export class FrameBatches {
  readonly #pool: FramePool;
  readonly #session: number;
  readonly #free: ArrayBuffer[] = [];
  #ended = false;

  /**
   * Starts the message on every worker. `key` stays the caller's (it is copied once per worker,
   * and each copy moves to its worker by transfer).
   */
  constructor(pool: FramePool, suite: AlgorithmSuite, key: Uint8Array, messageId: Uint8Array, frameLength: number) {
    this.#pool = pool;
    this.#session = pool.newSession();
    const session = this.#session;
    pool.broadcast(() => {
      const copy = new ArrayBuffer(key.byteLength);
      new Uint8Array(copy).set(key);
      return {
        message: { t: 'begin', session, suiteId: suite.id, messageId: Uint8Array.from(messageId), frameLength, key: copy },
        transfer: [copy],
      };
    });
  }

  /**
   * An input buffer of at least `bytes` bytes to fill and pass to {@link seal} or {@link open}
   * (reused from earlier batches when one is big enough).
   */
  takeInput(bytes: number): Uint8Array {
    const i = this.#free.findIndex((b) => b.byteLength >= bytes);
    const ab = i >= 0 ? this.#free.splice(i, 1)[0]! : new ArrayBuffer(bytes);
    return new Uint8Array(ab);
  }

  /**
   * Seals the plaintext in `input[0, length)` (a buffer from {@link takeInput}, which moves to the
   * worker and comes back for reuse) as frames `seq`, `seq + 1`…, the last one final if `final`.
   * `outputBytes` is the size the frames take.
   */
  async seal(input: Uint8Array, length: number, seq: number, final: boolean, outputBytes: number): Promise<SealedBatch> {
    const session = this.#session;
    const r = await this.#run(
      input,
      (job) => {
        const output = new ArrayBuffer(outputBytes);
        return {
          message: { t: 'seal', session, job, seq, final, input: input.buffer as ArrayBuffer, inputLength: length, output },
          transfer: [input.buffer as ArrayBuffer, output],
        };
      },
      true,
    );
    return { frames: Buffer.from(r.output, 0, r.outputLength) };
  }

  /**
   * Opens the whole frames in `input[0, length)`, the first carrying `seq`. Fails (with nothing
   * released) if any frame of the batch does not authenticate. `outputBytes` bounds the plaintext.
   */
  async open(input: Uint8Array, length: number, seq: number, outputBytes: number): Promise<OpenedBatch> {
    const session = this.#session;
    const r = await this.#run(
      input,
      (job) => {
        const output = new ArrayBuffer(outputBytes);
        return {
          message: { t: 'open', session, job, seq, input: input.buffer as ArrayBuffer, inputLength: length, output },
          transfer: [input.buffer as ArrayBuffer, output],
        };
      },
      false,
    );
    return { plaintext: Buffer.from(r.output, 0, r.outputLength), final: r.final };
  }

  /** Ends the message: every worker wipes its copy of the key; input buffers held here are wiped. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const b of this.#free) new Uint8Array(b).fill(0);
    this.#free.length = 0;
    this.#pool.endSession(this.#session);
  }

  async #run(input: Uint8Array, make: Parameters<FramePool['run']>[0], plaintextInput: boolean): Promise<JobDone> {
    if (input.byteOffset !== 0) throw new EnvelopeError('ENVELOPE_INTERNAL', 'FrameBatches: input must come from takeInput()');
    const r = await this.#pool.run(make);
    if (this.#ended) {
      // The message ended while this batch was out (a destroyed or aborted stream): nothing of it
      // is kept, and whatever plaintext it carried (encrypt's input, decrypt's output) is wiped.
      if (plaintextInput) new Uint8Array(r.input).fill(0);
      else new Uint8Array(r.output).fill(0);
      throw new EnvelopeError('ENVELOPE_ABORTED', 'the message ended while a batch of frames was out');
    }
    // Back for reuse: its bytes are overwritten by the next batch, or wiped by end().
    this.#free.push(r.input);
    if (!r.ok) throw new EnvelopeError(r.code as ErrorCode, r.message);
    return r;
  }
}
