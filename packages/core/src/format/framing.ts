/**
 * The body's size arithmetic, in one place (spec: data-format/message-body.md#message-body): how
 * many frames a plaintext takes, how long each frame is, how long the body and the footer can be,
 * and how big the next piece of a body is from its first bytes. Encrypt, decrypt and both streams
 * use these.
 */
import { authenticationFailed, malformed } from '../errors.js';
import type { AlgorithmSuite } from '../suites.js';

/** The sequence-number field of a final frame starts with this marker (spec: data-format/message-body.md#final-frame). */
export const FINAL_FRAME_MARKER = 0xffffffff;
/** Frames per message, and the largest sequence number (spec: data-format/message-body.md#framed-data). */
export const MAX_FRAMES = 0xffffffff;
/** Largest non-framed body (spec: data-format/message-body.md#encrypted-content-length). */
export const MAX_NON_FRAMED_LENGTH = 2 ** 36 - 32;
/** Largest DER ECDSA signature we write or accept (P-384: at most 104 bytes; leave headroom). */
export const MAX_SIGNATURE_LENGTH = 0xff;
/** Largest footer: u16 length and the signature (spec: data-format/message-footer.md#footer-structure). */
export const MAX_FOOTER_LENGTH = 2 + MAX_SIGNATURE_LENGTH;
/** Bytes of a frame's start that tell its size, whatever its kind (final frame: marker, seq, IV, length). */
export const FRAME_SIZE_PROBE = 8 + 12 + 8;

/** Overhead of a regular frame around its content: seq + IV + tag. */
export function regularFrameOverhead(suite: AlgorithmSuite): number {
  return 4 + suite.ivLength + suite.tagLength;
}

/** Overhead of the final frame: marker + seq + IV + length + tag. */
export function finalFrameOverhead(suite: AlgorithmSuite): number {
  return 8 + suite.ivLength + 4 + suite.tagLength;
}

/** A regular frame's size: its overhead and `frameLength` bytes of content. */
export function regularFrameSize(suite: AlgorithmSuite, frameLength: number): number {
  return regularFrameOverhead(suite) + frameLength;
}

/**
 * Frames a plaintext of `length` bytes takes. A plaintext that is an exact multiple of the frame
 * length ends in a full final frame, and an empty one is one empty final frame
 * (spec: data-format/message-body.md#final-frame): its length SHOULD equal the frame length.
 */
export function frameCount(length: number, frameLength: number): number {
  return length === 0 ? 1 : Math.ceil(length / frameLength);
}

/** Length of the framed body (every frame) for a plaintext of `length` bytes. */
export function framedBodyLength(suite: AlgorithmSuite, length: number, frameLength: number): number {
  const frames = frameCount(length, frameLength);
  const finalLength = length - (frames - 1) * frameLength;
  return (frames - 1) * regularFrameSize(suite, frameLength) + finalFrameOverhead(suite) + finalLength;
}

/**
 * Of `available` plaintext bytes in a stream whose end is not yet known, the number of full
 * frames that may be sealed now: all but the last full frame, which is held back in case the
 * input ends there and it must become the final frame.
 */
export function sealableFrames(available: number, frameLength: number): number {
  return available > frameLength ? Math.floor((available - 1) / frameLength) : 0;
}

/**
 * The size of the body piece (a frame, or the whole non-framed body) that starts at `offset`, or
 * undefined when the bytes there do not tell it yet: the one "need more data" answer of the
 * body. Refuses a declared length over the limits before anything is buffered for it.
 */
export function bodyPieceSize(
  suite: AlgorithmSuite,
  frameLength: number,
  maxNonFramedLength: number,
  bytes: Uint8Array,
  offset: number,
): number | undefined {
  const avail = bytes.byteLength - offset;
  const u32 = (o: number): number => ((bytes[o]! << 24) >>> 0) + (bytes[o + 1]! << 16) + (bytes[o + 2]! << 8) + bytes[o + 3]!;
  if (frameLength === 0) {
    // Non-framed: IV, u64 content length, content, tag.
    if (avail < suite.ivLength + 8) return undefined;
    const len = u32(offset + suite.ivLength) * 0x100000000 + u32(offset + suite.ivLength + 4);
    if (len > Math.min(maxNonFramedLength, MAX_NON_FRAMED_LENGTH)) throw malformed('non-framed content length exceeds the limit');
    return suite.ivLength + 8 + len + suite.tagLength;
  }
  if (avail < 4) return undefined;
  if (u32(offset) !== FINAL_FRAME_MARKER) return regularFrameSize(suite, frameLength);
  if (avail < 8 + suite.ivLength + 4) return undefined;
  const len = u32(offset + 8 + suite.ivLength);
  if (len > frameLength) throw malformed('final frame longer than the frame length');
  return finalFrameOverhead(suite) + len;
}

/**
 * The footer's size from its first bytes (u16 signature length), or undefined until they are
 * here. A zero or over-long length fails authentication, as a bad signature would.
 */
export function footerSize(bytes: Uint8Array, offset: number): number | undefined {
  if (bytes.byteLength - offset < 2) return undefined;
  const len = (bytes[offset]! << 8) | bytes[offset + 1]!;
  if (len === 0 || len > MAX_SIGNATURE_LENGTH) throw authenticationFailed();
  return 2 + len;
}
