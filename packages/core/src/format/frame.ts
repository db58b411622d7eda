/**
 * The message body: framed (regular and final frames) and non-framed
 * (spec: data-format/message-body.md, data-format/message-body-aad.md).
 *
 * Plain synchronous functions over bytes: the buffer API and both stream adapters run on them.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { authenticationFailed, malformed } from '../errors.js';
import { NeedMoreData, writeU32, writeU64 } from '../bytes.js';
import type { AlgorithmSuite } from '../suites.js';

const FINAL_MARKER = 0xffffffff;
/** Frames per message, and the largest sequence number (spec: message-body.md, "Framed Data"). */
export const MAX_FRAMES = 0xffffffff;
/** Largest non-framed body (spec: message-body.md, "Encrypted Content Length"). */
export const MAX_NON_FRAMED_LENGTH = 2 ** 36 - 32;

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

/** Overhead of a regular frame around its content: seq + IV + tag. */
export function regularFrameOverhead(suite: AlgorithmSuite): number {
  return 4 + suite.ivLength + suite.tagLength;
}

/** Overhead of the final frame: marker + seq + IV + length + tag. */
export function finalFrameOverhead(suite: AlgorithmSuite): number {
  return 8 + suite.ivLength + 4 + suite.tagLength;
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
   * Writes one frame into `out` at `offset` and returns the offset after it. The IV is the
   * sequence number, big-endian, left-padded with zeros (spec: client-apis/encrypt.md "Construct a frame").
   */
  writeFrame(out: Uint8Array, offset: number, seq: number, final: boolean, plaintext: Uint8Array): number {
    const s = this.#suite;
    let o = offset;
    if (final) {
      writeU32(out, o, FINAL_MARKER);
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
  /** Authenticated plaintext (a fresh buffer the caller owns). */
  readonly plaintext: Buffer;
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
  readonly #frameLength: number;
  readonly #framed: boolean;
  readonly #maxNonFramed: number;
  #seq = 1;
  #done = false;

  constructor(suite: AlgorithmSuite, key: Buffer, messageId: Uint8Array, frameLength: number, framed: boolean, maxNonFramedLength: number) {
    this.#suite = suite;
    this.#key = key;
    this.#aad = new BodyAad(messageId);
    this.#frameLength = frameLength;
    this.#framed = framed;
    this.#maxNonFramed = Math.min(maxNonFramedLength, MAX_NON_FRAMED_LENGTH);
  }

  get done(): boolean {
    return this.#done;
  }

  /**
   * Size of the next frame if `available` bytes starting at `offset` tell it, else -1. Lets a
   * stream wait until a whole frame has arrived without trial parsing. Throws on an
   * over-long declared length before anything is buffered for it.
   */
  nextFrameSize(bytes: Uint8Array, offset: number): number {
    const s = this.#suite;
    const avail = bytes.byteLength - offset;
    const u32 = (o: number): number => ((bytes[o]! << 24) >>> 0) + (bytes[o + 1]! << 16) + (bytes[o + 2]! << 8) + bytes[o + 3]!;
    if (!this.#framed) {
      if (avail < s.ivLength + 8) return -1;
      const hi = u32(offset + s.ivLength);
      const lo = u32(offset + s.ivLength + 4);
      const len = hi * 0x100000000 + lo;
      if (len > this.#maxNonFramed) throw malformed('non-framed content length exceeds the limit');
      return s.ivLength + 8 + len + s.tagLength;
    }
    if (avail < 4) return -1;
    if (u32(offset) !== FINAL_MARKER) return regularFrameOverhead(s) + this.#frameLength;
    if (avail < 8 + s.ivLength + 4) return -1;
    const len = u32(offset + 8 + s.ivLength);
    if (len > this.#frameLength) throw malformed('final frame longer than the frame length');
    return finalFrameOverhead(s) + len;
  }

  /**
   * Decrypts the frame at `offset`. Throws {@link NeedMoreData} if it is incomplete (call again
   * with more bytes), a malformed error for a bad structure, or the authentication error.
   */
  decryptAt(bytes: Uint8Array, offset: number): DecryptedFrame {
    if (this.#done) throw malformed('data after the final frame');
    const size = this.nextFrameSize(bytes, offset);
    if (size < 0 || bytes.byteLength - offset < size) throw new NeedMoreData();
    const s = this.#suite;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset + offset, size);
    let o = 0;
    let kind: AadKind;
    let len: number;
    if (!this.#framed) {
      kind = 'single';
      len = size - s.ivLength - 8 - s.tagLength;
      o = 0;
    } else {
      const final = view.readUInt32BE(0) === FINAL_MARKER;
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
    else if (this.#seq === MAX_FRAMES) throw malformed('too many frames');
    this.#seq++;
    return { plaintext, consumed: size, final };
  }

  dispose(): void {
    this.#key.fill(0);
  }
}
