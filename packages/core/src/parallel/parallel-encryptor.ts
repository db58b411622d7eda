/**
 * Streaming encryption with the frames sealed on a {@link FramePool}: the main thread gathers
 * plaintext into batches of whole frames and hands them out; sealed batches come back in any
 * order and are released in order, where the signer (signed suites) sees them. Same message,
 * layout as {@link StreamEncryptor} writes (the same frames for the same plaintext and materials).
 */
import { limitExceeded, throwIfAborted } from '../errors.js';
import { checkEncryptOptions, DEFAULT_STREAM_FRAME_LENGTH, integerOption } from '../options.js';
import { MAX_FRAMES, finalFrameOverhead, regularFrameOverhead } from '../format/framing.js';
import { EncryptSession } from '../message/encrypt-session.js';
import { disposedError, type EncryptStreamOptions } from '../message/stream-encryptor.js';
import type { MessageInfo } from '../message/message-info.js';
import type { EncryptionWarning } from '../materials/materials.js';
import type { FrameBatches, SealedBatch } from './frame-batches.js';
import { InOrder, batchFrames, type ParallelOptions } from './in-order.js';

export class ParallelStreamEncryptor {
  readonly #options: ReturnType<typeof checkEncryptOptions>;
  readonly #parallel: ParallelOptions;
  readonly #bound: number | undefined;
  #session: EncryptSession | undefined;
  #batches: FrameBatches | undefined;
  #inFlight: InOrder<SealedBatch & { count: number }> | undefined;
  /** The batch being filled, and how much of it is. */
  #input: Uint8Array | undefined;
  #inputLength = 0;
  #capacity = 0;
  #seq = 1;
  #total = 0;
  #disposed = false;

  constructor(options: EncryptStreamOptions & { parallel: ParallelOptions }) {
    this.#options = checkEncryptOptions({ ...options, frameLength: options.frameLength ?? DEFAULT_STREAM_FRAME_LENGTH });
    this.#parallel = options.parallel;
    const b = options.plaintextLengthBound;
    this.#bound = b === undefined ? undefined : integerOption(b, 'plaintextLengthBound', 0, 0);
  }

  get messageInfo(): MessageInfo | undefined {
    return this.#session?.info;
  }

  get warnings(): readonly EncryptionWarning[] {
    return this.#session?.warnings ?? [];
  }

  /** Starts the message: gets materials, hands the key to the workers, returns the header bytes. */
  async start(): Promise<Uint8Array> {
    const session = await EncryptSession.begin(this.#options, this.#bound);
    if (this.#disposed) {
      session.dispose();
      throw disposedError();
    }
    this.#session = session;
    this.#batches = session.frameBatches(this.#parallel.pool);
    this.#inFlight = new InOrder(this.#parallel, this.#parallel.pool.size);
    this.#capacity = batchFrames(this.#parallel, session.frameLength) * session.frameLength;
    return session.header;
  }

  /**
   * Accepts plaintext; resolves with the sealed frames that are ready, in order. A full batch is
   * sent only once more input follows it (its last frame may turn out to be the final frame);
   * waits for the oldest batch when too many are in flight.
   */
  async update(chunk: Uint8Array): Promise<Uint8Array[]> {
    if (this.#disposed) throw disposedError();
    throwIfAborted(this.#options.signal);
    this.#total += chunk.byteLength;
    if (this.#bound !== undefined && this.#total > this.#bound) throw limitExceeded('plaintext exceeds plaintextLengthBound');
    let c = 0;
    while (c < chunk.byteLength) {
      if (this.#inputLength === this.#capacity && this.#input) this.#send(false);
      this.#input ??= this.#batches!.takeInput(this.#capacity);
      const take = Math.min(this.#capacity - this.#inputLength, chunk.byteLength - c);
      this.#input.set(chunk.subarray(c, c + take), this.#inputLength);
      this.#inputLength += take;
      c += take;
    }
    return this.#adopt(await this.#inFlight!.ready());
  }

  /** Ends the message: the last batch (with the final frame), every batch still out, the footer. */
  async finish(): Promise<Uint8Array[]> {
    if (this.#disposed) throw disposedError();
    this.#input ??= this.#batches!.takeInput(this.#capacity);
    this.#send(true);
    const out = this.#adopt(await this.#inFlight!.all());
    out.push(this.#session!.footer());
    this.dispose();
    return out;
  }

  #send(final: boolean): void {
    const s = this.#session!;
    const fl = s.frameLength;
    const length = this.#inputLength;
    const count = final ? Math.max(1, Math.ceil(length / fl)) : length / fl;
    if (this.#seq + count - 1 > MAX_FRAMES - (final ? 0 : 1)) throw limitExceeded('stream needs more than 2^32-1 frames');
    const regular = regularFrameOverhead(s.suite) + fl;
    const bytes = final ? (count - 1) * regular + finalFrameOverhead(s.suite) + (length - (count - 1) * fl) : count * regular;
    const seq = this.#seq;
    this.#seq += count;
    const input = this.#input!;
    this.#input = undefined;
    this.#inputLength = 0;
    this.#inFlight!.add(this.#batches!.seal(input, length, seq, final, bytes).then((r) => ({ ...r, count })));
  }

  /** Batches back in order: counted and signed by the session, then released. */
  #adopt(done: (SealedBatch & { count: number })[]): Uint8Array[] {
    return done.map((r) => {
      this.#session!.adoptFrames(r.frames, r.count);
      return r.frames;
    });
  }

  /** Wipes the derived key (here and on every worker) and buffered plaintext. Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#batches?.end();
    this.#session?.dispose();
    this.#input?.fill(0);
    this.#inputLength = 0;
    this.#inFlight?.abandon();
  }
}
