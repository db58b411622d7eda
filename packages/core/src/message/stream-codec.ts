/**
 * The streaming state machines behind the Node and web stream adapters. They run on the same
 * sessions and frame codec as the buffer API; only the buffering differs.
 */
import { EnvelopeError, limitExceeded, malformed, throwIfAborted } from '../errors.js';
import { NeedMoreData } from '../bytes.js';
import {
  checkDecryptOptions,
  checkEncryptOptions,
  DEFAULT_STREAM_FRAME_LENGTH,
  type DecryptOptions,
  type EncryptOptions,
} from '../options.js';
import { parseHeader, type ParsedHeader } from '../format/header.js';
import { MAX_FRAMES, finalFrameOverhead, regularFrameOverhead } from '../format/frame.js';
import { EncryptSession } from './encrypt-session.js';
import { DecryptSession } from './decrypt-session.js';
import { ByteQueue } from './byte-queue.js';
import type { MessageInfo } from './message-info.js';
import type { EncryptionContext } from '../encryption-context.js';
import type { EncryptionWarning } from '../materials/materials.js';

export type EncryptStreamOptions = EncryptOptions & {
  /**
   * An upper bound on the plaintext length, when known. Passed to the materials manager (a
   * caching manager caches stream encryptions only with a bound) and enforced.
   */
  plaintextLengthBound?: number;
};

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
    if (b !== undefined && (!Number.isSafeInteger(b) || b < 0))
      throw new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', 'plaintextLengthBound: expected a non-negative integer');
    this.#bound = b;
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
   * until more data arrives, so the last full frame can become the final frame.
   */
  update(chunk: Uint8Array): Uint8Array {
    if (this.#disposed) throw disposedError();
    const s = this.#session!;
    throwIfAborted(this.#options.signal);
    this.#total += chunk.byteLength;
    if (this.#bound !== undefined && this.#total > this.#bound) throw limitExceeded('plaintext exceeds plaintextLengthBound');
    const fl = s.frameLength;
    const available = this.#pendingLength + chunk.byteLength;
    // Frames we may emit now: all full frames except one held back (it may be the final frame).
    const emit = available > fl ? Math.floor((available - 1) / fl) : 0;
    if (emit === 0) {
      this.#pending!.set(chunk, this.#pendingLength);
      this.#pendingLength += chunk.byteLength;
      return new Uint8Array(0);
    }
    if (this.#frames + emit >= MAX_FRAMES) throw limitExceeded('stream needs more than 2^32-1 frames');
    const out = Buffer.allocUnsafe(emit * (regularFrameOverhead(s.suite) + fl));
    let off = 0;
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
    return out;
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

function disposedError(): EnvelopeError {
  return new EnvelopeError('ENVELOPE_ABORTED', 'stream already closed');
}

export type DecryptStreamOptions = DecryptOptions & {
  /**
   * Signed messages: release each frame's plaintext as soon as that frame authenticates, before
   * the signature at the end is verified (the final frame is still held until then). Off by
   * default: a signed message's plaintext is held until the signature verifies.
   */
  releaseUnverifiedPlaintext?: boolean;
  /** Signed messages without the opt-in: the most plaintext held awaiting the signature. Default 64 MiB. */
  maxBufferedPlaintext?: number;
};

/** Frame-by-frame decryption of a byte stream. Plaintext is released only once authenticated. */
export class StreamDecryptor {
  readonly #options: ReturnType<typeof checkDecryptOptions>;
  readonly #release: boolean;
  readonly #maxHeld: number;
  readonly #queue = new ByteQueue();
  #header: ParsedHeader | undefined;
  #session: DecryptSession | undefined;
  #held: Uint8Array[] = [];
  #heldLength = 0;
  #maxHeaderBytes: number;
  #disposed = false;

  constructor(options: DecryptStreamOptions) {
    this.#options = checkDecryptOptions(options);
    this.#release = options.releaseUnverifiedPlaintext === true;
    this.#maxHeld = options.maxBufferedPlaintext ?? 64 * 1024 * 1024;
    // The largest header the EDK limit allows: fixed fields, a full context, every EDK at max size.
    this.#maxHeaderBytes = 128 + 0x10001 + this.#options.maxEncryptedDataKeys * (6 + 3 * 0xffff);
  }

  get messageInfo(): MessageInfo | undefined {
    return this.#session?.info;
  }

  get encryptionContext(): EncryptionContext | undefined {
    return this.#session?.encryptionContext;
  }

  /** Accepts message bytes; returns the plaintext that may be released now. */
  async update(chunk: Uint8Array): Promise<Uint8Array[]> {
    if (this.#disposed) throw disposedError();
    throwIfAborted(this.#options.signal);
    this.#queue.push(chunk);
    if (!this.#session) {
      if (!this.#header) {
        try {
          this.#header = parseHeader(this.#queue.contiguous(this.#queue.length), this.#options, true);
        } catch (e) {
          if (!(e instanceof NeedMoreData)) throw e;
          if (this.#queue.length > this.#maxHeaderBytes) throw limitExceeded('message header exceeds the size the EDK limit allows');
          return [];
        }
        this.#queue.consume(this.#header.length);
      }
      const session = await DecryptSession.begin(this.#header, this.#options);
      // Disposed while the materials manager was working: wipe what it just derived.
      if (this.#disposed) {
        session.dispose();
        throw disposedError();
      }
      this.#session = session;
    }
    return this.#drainFrames();
  }

  #drainFrames(): Uint8Array[] {
    const s = this.#session!;
    const out: Uint8Array[] = [];
    while (!s.decrypter.done && this.#queue.length > 0) {
      const probe = this.#queue.contiguous(Math.min(this.#queue.length, 32));
      const size = s.decrypter.nextFrameSize(probe, 0);
      if (size < 0 || this.#queue.length < size) break;
      const bytes = this.#queue.contiguous(size);
      const frame = s.decrypter.decryptAt(bytes.byteLength === size ? bytes : bytes.subarray(0, size), 0);
      s.updateSignature(bytes.subarray(0, size));
      this.#queue.consume(size);
      if (!s.signed || (this.#release && !frame.final)) {
        out.push(frame.plaintext);
      } else {
        this.#heldLength += frame.plaintext.byteLength;
        this.#held.push(frame.plaintext);
        if (!this.#release && this.#heldLength > this.#maxHeld) {
          throw limitExceeded(
            'signed message plaintext awaiting signature verification exceeds maxBufferedPlaintext; ' +
              'raise it, or opt in to releaseUnverifiedPlaintext',
          );
        }
      }
    }
    return out;
  }

  /** Ends the input: checks the message is complete, verifies the signature, releases held plaintext. */
  async finish(): Promise<Uint8Array[]> {
    if (!this.#session) {
      if (this.#queue.length === 0 && !this.#header) throw malformed('empty message');
      throw malformed('truncated message header');
    }
    const s = this.#session;
    if (!s.decrypter.done) throw malformed('truncated message body');
    let footerLength: number;
    const rest = this.#queue.length ? this.#queue.contiguous(this.#queue.length) : new Uint8Array(0);
    try {
      footerLength = s.verifyFooter(rest, 0, false);
    } catch (e) {
      this.#wipeHeld();
      throw e;
    }
    if (rest.byteLength !== footerLength) {
      this.#wipeHeld();
      throw malformed('trailing bytes after the message');
    }
    s.dispose();
    const held = this.#held;
    this.#held = [];
    return held;
  }

  #wipeHeld(): void {
    for (const h of this.#held) h.fill(0);
    this.#held = [];
  }

  /** Wipes the derived key and held plaintext, now or as soon as the session exists. Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#session?.dispose();
    this.#wipeHeld();
  }
}
