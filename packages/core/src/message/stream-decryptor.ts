/**
 * The streaming decrypt state machine behind the Node and web stream adapters. It runs on the
 * same session and frame codec as the buffer API; only the buffering differs.
 *
 * Memory is bounded whatever the message's size: the header parser holds at most
 * `maxHeaderLength` bytes, the queue at most one frame (bounded by `maxFrameLength`) plus the
 * chunk being added, and after the final frame at most a footer. Plaintext is held only for
 * signed messages: all of it (up to `maxBufferedPlaintext`) until the signature verifies, or with
 * `releaseUnverifiedPlaintext` only the final frame.
 *
 * With `parallel`, a framed body's frames are read in batches on a frame pool's worker threads
 * (parallel/batch-reader.ts); the header, the held plaintext and the footer are handled here
 * as for the serial loop, a batch counting as one piece (with the final frame, as the final frame).
 */
import { invalidArgument, limitExceeded, malformed, throwIfAborted } from '../errors.js';
import { checkDecryptOptions, integerOption, type DecryptOptions } from '../options.js';
import { HeaderParser } from '../format/header-parser.js';
import { FRAME_SIZE_PROBE, MAX_FOOTER_LENGTH } from '../format/framing.js';
import { DecryptSession } from './decrypt-session.js';
import { ByteQueue } from './byte-queue.js';
import { disposedError } from './stream-encryptor.js';
import type { MessageInfo } from './message-info.js';
import type { EncryptionContext } from '../encryption-context.js';
import { BatchReader } from '../parallel/batch-reader.js';
import type { ParallelOptions } from '../parallel/in-order.js';
import type { OpenedBatch } from '../parallel/frame-batches.js';

/** Default for {@link DecryptStreamOptions.maxBufferedPlaintext}: 64 MiB. */
export const DEFAULT_MAX_BUFFERED_PLAINTEXT = 64 * 1024 * 1024;

export type DecryptStreamOptions = DecryptOptions & {
  /**
   * Signed messages: release each frame's plaintext as soon as that frame authenticates, before
   * the signature at the end is verified; the final frame is still held until it verifies, so
   * memory stays bounded at any size. The plaintext released before then is unverified: if the
   * stream then fails, the caller must discard everything it received (write it to a private
   * temporary and publish it only after the stream ends without error). Off by default: a signed
   * message's plaintext is held until the signature verifies.
   */
  releaseUnverifiedPlaintext?: boolean;
  /**
   * Signed messages without the opt-in: the most plaintext held awaiting the signature, in bytes
   * (a non-negative integer). Default 64 MiB ({@link DEFAULT_MAX_BUFFERED_PLAINTEXT}).
   */
  maxBufferedPlaintext?: number;
  /** Read a framed body's frames in batches on a frame pool's worker threads. */
  parallel?: ParallelOptions | undefined;
};

/** Frame-by-frame decryption of a byte stream. Plaintext is released only once authenticated. */
export class StreamDecryptor {
  readonly #options: ReturnType<typeof checkDecryptOptions>;
  readonly #release: boolean;
  readonly #maxHeld: number;
  readonly #parser: HeaderParser;
  readonly #queue = new ByteQueue();
  #begin: Promise<DecryptSession> | undefined;
  #session: DecryptSession | undefined;
  readonly #parallel: ParallelOptions | undefined;
  #batches: BatchReader | undefined;
  #held: Uint8Array[] = [];
  #heldLength = 0;
  #disposed = false;

  constructor(options: DecryptStreamOptions) {
    this.#options = checkDecryptOptions(options);
    const release = options.releaseUnverifiedPlaintext;
    if (release !== undefined && typeof release !== 'boolean') throw invalidArgument('releaseUnverifiedPlaintext', 'expected a boolean');
    this.#release = release === true;
    this.#maxHeld = integerOption(options.maxBufferedPlaintext, 'maxBufferedPlaintext', DEFAULT_MAX_BUFFERED_PLAINTEXT, 0);
    this.#parser = new HeaderParser(this.#options);
    this.#parallel = options.parallel;
  }

  /** The message's facts, once its header has authenticated. */
  get messageInfo(): MessageInfo | undefined {
    return this.#session?.info;
  }

  /** The authenticated context (stored and reproduced pairs), once the header has authenticated. */
  get encryptionContext(): EncryptionContext | undefined {
    return this.#session?.encryptionContext;
  }

  /** Keys of {@link encryptionContext} that are required context (authenticated, not stored). */
  get requiredEncryptionContextKeys(): readonly string[] | undefined {
    return this.#session?.requiredEncryptionContextKeys;
  }

  /**
   * Bytes held right now: header bytes awaiting the rest of the header, ciphertext awaiting a
   * whole frame or footer, and plaintext awaiting the signature. Bounded as the module says.
   */
  get buffered(): number {
    return (this.#parser.header ? 0 : this.#parser.buffered) + this.#queue.length + this.#heldLength + (this.#batches?.buffered ?? 0);
  }

  /**
   * Accepts message bytes; returns the plaintext that may be released now. Once the returned
   * promise settles the decryptor holds no reference to `chunk`: the caller may overwrite it (read
   * the next bytes into the same buffer).
   */
  async update(chunk: Uint8Array): Promise<Uint8Array[]> {
    try {
      return await this.#update(chunk);
    } finally {
      // What is left (part of a frame, a footer) moves into the queue's own buffer.
      this.#queue.detach();
      this.#batches?.detach();
    }
  }

  async #update(chunk: Uint8Array): Promise<Uint8Array[]> {
    if (this.#disposed) throw disposedError();
    throwIfAborted(this.#options.signal);
    if (!this.#session) {
      if (!this.#parser.header) {
        const header = this.#parser.push(chunk);
        if (!header) return [];
        chunk = this.#parser.rest;
      }
      this.#queue.push(chunk);
      this.#begin ??= DecryptSession.begin(this.#parser.header!, this.#options);
      const session = await this.#begin;
      // Disposed while the materials manager was working: wipe what it just derived.
      if (this.#disposed) {
        session.dispose();
        throw disposedError();
      }
      this.#session = session;
      // A framed body on a frame pool: the bytes queued so far are its first.
      if (this.#parallel && session.info.frameLength > 0) {
        this.#batches = new BatchReader(session, this.#parallel);
        chunk = this.#queue.peek(this.#queue.length);
        this.#queue.clear();
      }
    } else if (!this.#batches) {
      this.#queue.push(chunk);
    }
    if (this.#batches) return this.#hold(await this.#batches.push(chunk));
    return this.#drain();
  }

  /** A batch's pieces, in order (frame-pool path). */
  #hold(batches: OpenedBatch[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const b of batches) {
      const r = this.#keep(b.plaintext, b.final);
      if (r) out.push(r);
    }
    return out;
  }

  /** One authenticated piece: returned to be released now, or held until the signature verifies. */
  #keep(plaintext: Uint8Array, final: boolean): Uint8Array | undefined {
    if (!this.#session!.signed || (this.#release && !final)) return plaintext;
    this.#heldLength += plaintext.byteLength;
    this.#held.push(plaintext);
    if (!this.#release && this.#heldLength > this.#maxHeld) {
      throw limitExceeded(
        'signed message plaintext awaiting signature verification exceeds maxBufferedPlaintext; ' +
          'raise it, or opt in to releaseUnverifiedPlaintext',
      );
    }
    return undefined;
  }

  #drain(): Uint8Array[] {
    const s = this.#session!;
    const q = this.#queue;
    const out: Uint8Array[] = [];
    while (!s.done) {
      const size = s.frameSize(q.peek(FRAME_SIZE_PROBE), 0);
      if (size === undefined) return out;
      if (q.length < size) {
        q.reserve(size); // the rest of this frame is merged and detached into one buffer
        return out;
      }
      const frame = s.readFrame(q.peek(size), 0);
      q.consume(size);
      const r = this.#keep(frame.plaintext, frame.final);
      if (r) out.push(r);
    }
    // After the final frame only the footer may follow: refuse more as soon as it arrives
    // rather than piling it up until finish().
    const footer = s.footerSize(q.peek(2), 0);
    if (q.length > (footer ?? MAX_FOOTER_LENGTH)) throw malformed('trailing bytes after the message');
    return out;
  }

  /** Ends the input: checks the message is complete, verifies the signature, releases held plaintext. */
  async finish(): Promise<Uint8Array[]> {
    if (this.#disposed) throw disposedError();
    if (!this.#session) {
      this.#parser.end(); // throws: empty, or a header cut short
      throw malformed('truncated message');
    }
    const s = this.#session;
    let released: Uint8Array[] = [];
    try {
      let rest: Uint8Array;
      if (this.#batches) {
        const end = await this.#batches.end();
        released = this.#hold(end.batches);
        rest = end.rest;
      } else {
        if (!s.done) throw malformed('truncated message body');
        rest = this.#queue.peek(this.#queue.length);
      }
      const footerLength = s.verifyFooter(rest, 0);
      if (rest.byteLength !== footerLength) throw malformed('trailing bytes after the message');
    } catch (e) {
      for (const r of released) r.fill(0);
      this.dispose();
      throw e;
    }
    s.dispose();
    this.#disposed = true;
    this.#queue.clear();
    this.#batches?.dispose();
    const held = this.#held;
    this.#held = [];
    this.#heldLength = 0;
    return [...released, ...held];
  }

  #wipeHeld(): void {
    for (const h of this.#held) h.fill(0);
    this.#held = [];
    this.#heldLength = 0;
  }

  /** Wipes the derived key and held plaintext, now or as soon as the session exists. Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#session?.dispose();
    void this.#begin?.then(
      (s) => s.dispose(),
      () => {},
    );
    this.#batches?.dispose();
    this.#wipeHeld();
    this.#queue.clear();
  }
}
