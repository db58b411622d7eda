/**
 * The message body: framed (regular and final frames) and non-framed
 * (spec: data-format/message-body.md#framed-data)
 * (spec: data-format/message-body-aad.md#message-body-aad).
 *
 * Plain synchronous functions over bytes: the buffer API and both stream adapters run on them.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { authenticationFailed, malformed } from '../errors.js';
import { writeU32, writeU64 } from '../bytes.js';
import type { AlgorithmSuite } from '../suites.js';
import { FINAL_FRAME_MARKER, MAX_FRAMES, bodyPieceSize } from './framing.js';

type AadKind = 'regular' | 'final' | 'single';
const AAD_CONTENT: Record<AadKind, Buffer> = {
  regular: Buffer.from('AWSKMSEncryptionClient Frame', 'utf8'),
  final: Buffer.from('AWSKMSEncryptionClient Final Frame', 'utf8'),
  single: Buffer.from('AWSKMSEncryptionClient Single Block', 'utf8'),
};

/** Body AAD buffers, built once per message and patched per frame (no per-frame allocation). */
class BodyAad {
  readonly #bufs: Record<AadKind, Buffer>;
  constructor(messageId: Uint8Array) {
    const make = (k: AadKind): Buffer => {
      const b = Buffer.alloc(messageId.byteLength + AAD_CONTENT[k].byteLength + 12);
      b.set(messageId, 0);
      b.set(AAD_CONTENT[k], messageId.byteLength);
      return b;
    };
    this.#bufs = { regular: make('regular'), final: make('final'), single: make('single') };
  }
  get(kind: AadKind, seq: number, contentLength: number): Buffer {
    const b = this.#bufs[kind];
    writeU32(b, b.byteLength - 12, seq);
    writeU64(b, b.byteLength - 8, contentLength);
    return b;
  }
}

/** Encrypts frames with one derived key. The caller wipes the key via {@link dispose}. */
export class FrameEncrypter {
  readonly #suite: AlgorithmSuite;
  readonly #key: Buffer;
  readonly #aad: BodyAad;
  readonly #iv: Buffer;

  constructor(suite: AlgorithmSuite, key: Buffer, messageId: Uint8Array) {
    this.#suite = suite;
    this.#key = key;
    this.#aad = new BodyAad(messageId);
    this.#iv = Buffer.alloc(suite.ivLength);
  }

  /**
   * Writes one frame into `out` at `offset` and returns the offset after it. The IV is the sequence
   * number, big-endian, left-padded with zeros (spec: client-apis/encrypt.md#construct-a-frame).
   */
  writeFrame(out: Uint8Array, offset: number, seq: number, final: boolean, plaintext: Uint8Array): number {
    const s = this.#suite;
    let o = offset;
    if (final) {
      writeU32(out, o, FINAL_FRAME_MARKER);
      o += 4;
    }
    writeU32(out, o, seq);
    o += 4;
    writeU32(this.#iv, s.ivLength - 4, seq);
    out.set(this.#iv, o);
    o += s.ivLength;
    if (final) {
      writeU32(out, o, plaintext.byteLength);
      o += 4;
    }
    const cipher = createCipheriv(s.cipher, this.#key, this.#iv, { authTagLength: s.tagLength });
    cipher.setAAD(this.#aad.get(final ? 'final' : 'regular', seq, plaintext.byteLength));
    const ct = cipher.update(plaintext);
    out.set(ct, o);
    o += ct.byteLength;
    const rest = cipher.final();
    if (rest.byteLength) {
      out.set(rest, o);
      o += rest.byteLength;
    }
    out.set(cipher.getAuthTag(), o);
    return o + s.tagLength;
  }

  dispose(): void {
    this.#key.fill(0);
  }
}

/** One decrypted, authenticated piece of the body. */
export interface DecryptedFrame {
  /**
   * Authenticated plaintext: a fresh buffer the caller owns, or (when an output was given) the
   * view of the output it was written to.
   */
  readonly plaintext: Uint8Array;
  /** Bytes of input the frame occupied. */
  readonly consumed: number;
  /** True for the final frame (or a non-framed body). */
  readonly final: boolean;
}

/**
 * Parses and decrypts the body frame by frame. Sequence numbers must run 1, 2, 3...; a regular
 * frame's content is exactly the frame length; the final frame's at most that.
 */
export class FrameDecrypter {
  readonly #suite: AlgorithmSuite;
  readonly #key: Buffer;
  readonly #aad: BodyAad;
  /** 0 for a non-framed body. */
  readonly #frameLength: number;
  readonly #maxNonFramed: number;
  #seq = 1;
  #done = false;

  /**
   * Takes ownership of `key` (wiped by {@link dispose}). `firstSeq`: the sequence number of the
   * first frame this decrypter sees (1, or a batch's first frame on a frame worker).
   */
  constructor(suite: AlgorithmSuite, key: Buffer, messageId: Uint8Array, frameLength: number, maxNonFramedLength: number, firstSeq = 1) {
    this.#seq = firstSeq;
    this.#suite = suite;
    this.#key = key;
    this.#aad = new BodyAad(messageId);
    this.#frameLength = frameLength;
    this.#maxNonFramed = maxNonFramedLength;
  }

  /** True once the final frame (or the non-framed body) has been decrypted. */
  get done(): boolean {
    return this.#done;
  }

  /** Size of the next frame from its first bytes at `offset`, or undefined until they are here. */
  nextFrameSize(bytes: Uint8Array, offset: number): number | undefined {
    return bodyPieceSize(this.#suite, this.#frameLength, this.#maxNonFramed, bytes, offset);
  }

  /**
   * Decrypts the frame at `offset`, which must be whole in `bytes`. With `out`, the plaintext is
   * written there at `outOffset` and the decipher's own copy is wiped (the buffer decrypt); else
   * the caller owns the returned buffer. Throws a malformed error for a bad structure or a frame
   * cut short, or the authentication error.
   */
  decryptAt(bytes: Uint8Array, offset: number, out?: Uint8Array, outOffset = 0): DecryptedFrame {
    if (this.#done) throw malformed('data after the final frame');
    const size = this.nextFrameSize(bytes, offset);
    if (size === undefined || bytes.byteLength - offset < size) throw malformed('truncated message body');
    const s = this.#suite;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset + offset, size);
    let o = 0;
    let kind: AadKind;
    let len: number;
    if (this.#frameLength === 0) {
      kind = 'single';
      len = size - s.ivLength - 8 - s.tagLength;
    } else {
      const final = view.readUInt32BE(0) === FINAL_FRAME_MARKER;
      if (final) o += 4;
      const seq = view.readUInt32BE(o);
      o += 4;
      if (seq !== this.#seq) throw malformed('frame out of sequence');
      kind = final ? 'final' : 'regular';
      len = final ? view.readUInt32BE(o + s.ivLength) : this.#frameLength;
    }
    const iv = view.subarray(o, o + s.ivLength);
    o += s.ivLength + (kind === 'regular' ? 0 : kind === 'final' ? 4 : 8);
    const content = view.subarray(o, o + len);
    const tag = view.subarray(o + len, o + len + s.tagLength);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv(s.cipher, this.#key, iv, { authTagLength: s.tagLength });
      decipher.setAAD(this.#aad.get(kind, kind === 'single' ? 1 : this.#seq, len));
      decipher.setAuthTag(tag);
      plaintext = decipher.update(content);
      try {
        decipher.final();
      } catch (e) {
        plaintext.fill(0);
        throw e;
      }
    } catch {
      throw authenticationFailed();
    }
    const final = kind !== 'regular';
    if (final) this.#done = true;
    else if (this.#seq === MAX_FRAMES) {
      plaintext.fill(0);
      throw malformed('too many frames');
    }
    this.#seq++;
    if (out === undefined) return { plaintext, consumed: size, final };
    // 15.12: the decipher's output is a copy of this frame's plaintext; the caller keeps only `out`.
    out.set(plaintext, outOffset);
    plaintext.fill(0);
    return { plaintext: out.subarray(outOffset, outOffset + len), consumed: size, final };
  }

  dispose(): void {
    this.#key.fill(0);
  }
}
