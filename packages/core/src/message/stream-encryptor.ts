/**
 * The streaming encrypt state machine behind the Node and web stream adapters. It runs on the
 * same session and frame codec as the buffer API; only the buffering differs.
 */
import { EnvelopeError, invalidArgument, limitExceeded, throwIfAborted } from '../errors.js';
import { checkEncryptOptions, DEFAULT_STREAM_FRAME_LENGTH, integerOption, type EncryptOptions } from '../options.js';
import { MAX_FRAMES, finalFrameOverhead, regularFrameSize, sealableFrames } from '../format/framing.js';
import { EncryptSession } from './encrypt-session.js';
import type { MessageInfo } from './message-info.js';
import type { EncryptionWarning } from '../materials/materials.js';

export type EncryptStreamOptions = EncryptOptions & {
  /**
   * An upper bound on the plaintext length, when known. Passed to the materials manager (a
   * caching manager caches stream encryptions only with a bound) and enforced.
   */
  plaintextLengthBound?: number;
};

const EMPTY = new Uint8Array(0);

/** Frame-by-frame encryption of a byte stream. */
export class StreamEncryptor {
  #session: EncryptSession | undefined;
  #pending: Buffer | undefined;
  #pendingLength = 0;
  #total = 0;
  #frames = 0;
  readonly #options: ReturnType<typeof checkEncryptOptions>;
  readonly #bound: number | undefined;
  #disposed = false;

  constructor(options: EncryptStreamOptions) {
    this.#options = checkEncryptOptions({ ...options, frameLength: options.frameLength ?? DEFAULT_STREAM_FRAME_LENGTH });
    const b = options.plaintextLengthBound;
    this.#bound = b === undefined ? undefined : integerOption(b, 'plaintextLengthBound', 0, 0);
  }

  get messageInfo(): MessageInfo | undefined {
    return this.#session?.info;
  }

  /** Warnings the keyrings recorded for this message (available once started). */
  get warnings(): readonly EncryptionWarning[] {
    return this.#session?.warnings ?? [];
  }

  /** Starts the message: gets materials and returns the header bytes. */
  async start(): Promise<Uint8Array> {
    const session = await EncryptSession.begin(this.#options, this.#bound);
    // Disposed while the materials manager was working (a destroyed or cancelled stream): the
    // message key it just derived has no one left to wipe it.
    if (this.#disposed) {
      session.dispose();
      throw disposedError();
    }
    this.#session = session;
    this.#pending = Buffer.allocUnsafe(session.frameLength);
    return session.header;
  }

  /**
   * Accepts plaintext; returns the complete regular frames it allows. A full frame is held back
   * until more data arrives, so the last full frame can become the final frame. The encryptor
   * keeps no reference to `chunk`.
   */
  update(chunk: Uint8Array): Uint8Array {
    if (this.#disposed) throw disposedError();
    const n = this.outputLength(chunk.byteLength);
    if (n === 0) {
      this.updateInto(chunk, EMPTY, 0);
      return EMPTY;
    }
    const out = Buffer.allocUnsafe(n);
    this.updateInto(chunk, out, 0);
    return out;
  }

  /**
   * Bytes the next {@link update} (or {@link updateInto}) of a chunk of `length` bytes produces:
   * the regular frames it completes. Available once started.
   */
  outputLength(length: number): number {
    const s = this.#session;
    if (!s) throw new EnvelopeError('ENVELOPE_INTERNAL', 'stream encryptor not started');
    return sealableFrames(this.#pendingLength + length, s.frameLength) * regularFrameSize(s.suite, s.frameLength);
  }

  /**
   * As {@link update}, but writes the frames into `out` at `offset`, which must have room for
   * {@link outputLength}(chunk.byteLength) bytes; returns the offset after them. For a caller
   * that gathers output in a buffer of its own (a batch of writes): no allocation, no copy.
   */
  updateInto(chunk: Uint8Array, out: Uint8Array, offset: number): number {
    if (this.#disposed) throw disposedError();
    const s = this.#session!;
    throwIfAborted(this.#options.signal);
    const fl = s.frameLength;
    const emit = sealableFrames(this.#pendingLength + chunk.byteLength, fl);
    if (out.byteLength - offset < emit * regularFrameSize(s.suite, fl)) throw invalidArgument('out', 'no room for the frames');
    this.#total += chunk.byteLength;
    if (this.#bound !== undefined && this.#total > this.#bound) throw limitExceeded('plaintext exceeds plaintextLengthBound');
    if (emit === 0) {
      this.#pending!.set(chunk, this.#pendingLength);
      this.#pendingLength += chunk.byteLength;
      return offset;
    }
    if (this.#frames + emit >= MAX_FRAMES) throw limitExceeded('stream needs more than 2^32-1 frames');
    let off = offset;
    let c = 0;
    for (let i = 0; i < emit; i++) {
      let frame: Uint8Array;
      if (this.#pendingLength > 0) {
        const take = fl - this.#pendingLength;
        this.#pending!.set(chunk.subarray(0, take), this.#pendingLength);
        c = take;
        this.#pendingLength = 0;
        frame = this.#pending!;
      } else {
        frame = chunk.subarray(c, c + fl);
        c += fl;
      }
      off = s.writeFrame(out, off, false, frame);
    }
    this.#frames += emit;
    const rest = chunk.subarray(c);
    this.#pending!.set(rest, this.#pendingLength);
    this.#pendingLength += rest.byteLength;
    return off;
  }

  /** Ends the message: the final frame and the footer. */
  finish(): Uint8Array {
    if (this.#disposed) throw disposedError();
    const s = this.#session!;
    const out = Buffer.allocUnsafe(finalFrameOverhead(s.suite) + this.#pendingLength);
    s.writeFrame(out, 0, true, this.#pending!.subarray(0, this.#pendingLength));
    const footer = s.footer();
    this.dispose();
    return footer.byteLength ? Buffer.concat([out, footer]) : out;
  }

  /**
   * Wipes the derived key and buffered plaintext, now or (if the session is still being set up)
   * as soon as it exists. Idempotent.
   */
  dispose(): void {
    this.#disposed = true;
    this.#session?.dispose();
    this.#pending?.fill(0);
    this.#pendingLength = 0;
  }
}

/** The error for a stream used after it was closed (destroyed, cancelled, finished). */
export function disposedError(): EnvelopeError {
  return new EnvelopeError('ENVELOPE_ABORTED', 'stream already closed');
}
