/**
 * The message header (spec: data-format/message-header.md), versions 1.0 and 2.0.
 */
import { EnvelopeError, limitExceeded, malformed } from '../errors.js';
import { Reader, Writer, fromUtf8, utf8 } from '../bytes.js';
import { deserializeEncryptionContext, serializeEncryptionContext, type EncryptionContext } from '../encryption-context.js';
import { SUITES, formatSuiteId, type AlgorithmSuite } from '../suites.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';

export const CONTENT_TYPE_NON_FRAMED = 1;
export const CONTENT_TYPE_FRAMED = 2;
const TYPE_CUSTOMER_AED = 0x80;

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

export interface HeaderLimits {
  /** Refuse messages with more EDKs than this (checked before any EDK is read). */
  readonly maxEncryptedDataKeys: number;
  /** Refuse framed messages whose frame length exceeds this (bounds streaming buffers). */
  readonly maxFrameLength: number;
}

/** Serializes a header body (spec: client-apis/encrypt.md, "Construct the header"). */
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

/**
 * Parses the header at the start of `bytes`. With `partial`, running out of input throws
 * {@link NeedMoreData} (the streaming decoder waits for more); otherwise it is malformed.
 * Every count and length is checked against the limits and the remaining input first.
 */
export function parseHeader(bytes: Uint8Array, limits: HeaderLimits, partial = false): ParsedHeader {
  const r = new Reader(bytes, 0, partial);
  const version = r.u8('version');
  if (version !== 1 && version !== 2) {
    throw base64Hint(bytes) ?? new EnvelopeError('ENVELOPE_UNSUPPORTED', `unsupported message format version ${version}`);
  }
  if (version === 1 && r.u8('type') !== TYPE_CUSTOMER_AED) throw malformed('unsupported message type');
  const suiteId = r.u16('algorithm suite id');
  const suite = SUITES.get(suiteId);
  if (!suite) throw new EnvelopeError('ENVELOPE_UNSUPPORTED', `unsupported algorithm suite ${formatSuiteId(suiteId)}`);
  if (suite.messageFormat !== version) throw malformed(`suite ${formatSuiteId(suiteId)} in a version ${version} header`);
  const messageId = r.bytesCopy(version === 1 ? 16 : 32, 'message id');
  const ecLength = r.u16('encryption context length');
  const encryptionContext = deserializeEncryptionContext(r.bytesView(ecLength, 'encryption context'));
  const edkCount = r.u16('encrypted data key count');
  if (edkCount === 0) throw malformed('no encrypted data keys');
  if (edkCount > limits.maxEncryptedDataKeys) {
    throw limitExceeded(`message has ${edkCount} encrypted data keys; the limit is ${limits.maxEncryptedDataKeys}`);
  }
  const encryptedDataKeys: EncryptedDataKey[] = [];
  for (let i = 0; i < edkCount; i++) {
    const providerId = fromUtf8(r.bytesView(r.u16('provider id length'), 'provider id'), 'provider id');
    const providerInfo = r.bytesCopy(r.u16('provider info length'), 'provider info');
    const ciphertext = r.bytesCopy(r.u16('encrypted data key length'), 'encrypted data key');
    encryptedDataKeys.push(Object.freeze({ providerId, providerInfo, ciphertext }));
  }
  const contentType = r.u8('content type');
  if (contentType !== CONTENT_TYPE_FRAMED && contentType !== CONTENT_TYPE_NON_FRAMED) throw malformed('unknown content type');
  if (version === 1) {
    if (r.u32('reserved') !== 0) throw malformed('reserved bytes are not zero');
    if (r.u8('IV length') !== suite.ivLength) throw malformed('IV length does not match the suite');
  }
  const frameLength = r.u32('frame length');
  if (contentType === CONTENT_TYPE_NON_FRAMED && frameLength !== 0) throw malformed('non-framed message with a frame length');
  if (contentType === CONTENT_TYPE_FRAMED && frameLength === 0) throw malformed('framed message with frame length 0');
  if (frameLength > limits.maxFrameLength) {
    throw limitExceeded(`frame length ${frameLength} exceeds the limit ${limits.maxFrameLength}`);
  }
  const suiteData = version === 2 ? r.bytesCopy(suite.suiteDataLength, 'algorithm suite data') : new Uint8Array(0);
  const bodyEnd = r.offset;
  const headerIv = version === 1 ? r.bytesCopy(suite.ivLength, 'header IV') : new Uint8Array(0);
  const headerAuthTag = r.bytesCopy(suite.tagLength, 'header authentication tag');
  return {
    version,
    suite,
    messageId,
    encryptionContext,
    encryptedDataKeys,
    contentType,
    frameLength,
    suiteData,
    body: bytes.slice(0, bodyEnd),
    headerIv,
    headerAuthTag,
    length: r.offset,
  };
}

/** Spec (client-apis/decrypt.md): detect a base64-encoded message and say so. */
function base64Hint(bytes: Uint8Array): EnvelopeError | undefined {
  const s = String.fromCharCode(...bytes.subarray(0, 2));
  if (s === 'AY' || s === 'AX' || s === 'Ag') {
    return malformed('the input looks base64-encoded; decode it before decrypting');
  }
  return undefined;
}
