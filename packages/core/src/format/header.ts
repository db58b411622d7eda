/**
 * The message header (spec: data-format/message-header.md#message-header), versions 1.0 and 2.0.
 */
import { EnvelopeError } from '../errors.js';
import { Writer, utf8 } from '../bytes.js';
import { serializeEncryptionContext, type EncryptionContext } from '../encryption-context.js';
import type { AlgorithmSuite } from '../suites.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';

export const CONTENT_TYPE_NON_FRAMED = 1;
export const CONTENT_TYPE_FRAMED = 2;
/** v1 "Type" field: customer authenticated encrypted data (spec: data-format/message-header.md#type). */
export const TYPE_CUSTOMER_AED = 0x80;

/** A parsed (or about-to-be-written) message header. */
export interface MessageHeader {
  readonly version: 1 | 2;
  readonly suite: AlgorithmSuite;
  readonly messageId: Uint8Array;
  /** The context stored in the header (required-context pairs are not stored). */
  readonly encryptionContext: EncryptionContext;
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
  readonly contentType: 1 | 2;
  /** Frame length for framed bodies; 0 for non-framed. */
  readonly frameLength: number;
  /** v2: the commit key (algorithm suite data); empty for v1. */
  readonly suiteData: Uint8Array;
}

/** A header as read from a message, with the bytes its authentication covers. */
export interface ParsedHeader extends MessageHeader {
  /** The serialized header body exactly as it appeared (authenticated verbatim). */
  readonly body: Uint8Array;
  /** v1: the header IV; v2: empty (the IV is zero). */
  readonly headerIv: Uint8Array;
  readonly headerAuthTag: Uint8Array;
  /** Total header length in bytes: body plus authentication. */
  readonly length: number;
}

/**
 * Bounds on what a header may declare, checked as each field is read, before anything is
 * buffered or allocated for it.
 */
export interface HeaderLimits {
  /** Refuse messages with more EDKs than this (checked before any EDK is read). */
  readonly maxEncryptedDataKeys: number;
  /** Refuse framed messages whose frame length exceeds this (bounds streaming buffers). */
  readonly maxFrameLength: number;
  /**
   * Refuse headers longer than this many bytes (body and authentication), whatever the EDK count
   * allows. Default {@link DEFAULT_MAX_HEADER_LENGTH} (1 MiB).
   */
  readonly maxHeaderLength?: number | undefined;
}

/**
 * Default bound on a header's length: 1 MiB. Real headers are far smaller (100 KMS EDKs of about
 * 300 bytes and a full 64 KiB context come to under 100 KiB); the EDK limit alone would allow
 * about 19 MiB of forged header at the default 100 EDKs (3 × 64 KiB each).
 */
export const DEFAULT_MAX_HEADER_LENGTH = 1024 * 1024;

/** Serializes a header body (spec: client-apis/encrypt.md#construct-the-header). */
export function serializeHeaderBody(h: MessageHeader): Uint8Array {
  const w = new Writer(512);
  const ec = serializeEncryptionContext(h.encryptionContext);
  w.u8(h.version);
  if (h.version === 1) w.u8(TYPE_CUSTOMER_AED);
  w.u16(h.suite.id).bytes(h.messageId);
  w.lp16(ec, 'encryption context');
  if (h.encryptedDataKeys.length === 0 || h.encryptedDataKeys.length > 0xffff)
    throw new EnvelopeError('ENVELOPE_INTERNAL', 'EDK count out of range');
  w.u16(h.encryptedDataKeys.length);
  for (const edk of h.encryptedDataKeys) {
    w.lp16(utf8(edk.providerId), 'provider id').lp16(edk.providerInfo, 'provider info').lp16(edk.ciphertext, 'encrypted data key');
  }
  w.u8(h.contentType);
  if (h.version === 1) w.u32(0).u8(h.suite.ivLength);
  w.u32(h.frameLength);
  if (h.version === 2) w.bytes(h.suiteData);
  return w.finish();
}
