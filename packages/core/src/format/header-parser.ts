/**
 * Reading the message header (versions 1.0 and 2.0:
 * (spec: data-format/message-header.md#header-body)), from a
 * whole buffer or incrementally from a stream.
 *
 * One parser serves both: {@link headerFields} is written as a sequence of steps, each of which
 * first says how many more bytes it reads (`yield n`) and then reads them. The buffer form runs
 * the steps straight through; the incremental form ({@link HeaderParser}) runs each step once its
 * bytes have arrived and resumes where it stopped, so every header byte is examined once and
 * copied a bounded number of times, however the input is chunked (a forged 16 MiB header in
 * 4 KiB chunks used to be re-parsed from byte 0 on every chunk: quadratic).
 *
 * Each declared length is checked against the limits before anything is buffered for it, and
 * the header as a whole against `maxHeaderLength`.
 */
import { EnvelopeError, invalidArgument, limitExceeded, malformed, notAMessage } from '../errors.js';
import { Reader, fromUtf8 } from '../bytes.js';
import { deserializeEncryptionContext } from '../encryption-context.js';
import { SUITES, formatSuiteId } from '../suites.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';
import {
  CONTENT_TYPE_FRAMED,
  CONTENT_TYPE_NON_FRAMED,
  DEFAULT_MAX_HEADER_LENGTH,
  TYPE_CUSTOMER_AED,
  type HeaderLimits,
  type ParsedHeader,
} from './header.js';

/** Limits with the header length resolved. */
interface Bounds {
  readonly maxEncryptedDataKeys: number;
  readonly maxFrameLength: number;
  readonly maxHeaderLength: number;
}

function bounds(limits: HeaderLimits): Bounds {
  if (!limits || typeof limits !== 'object') throw invalidArgument('limits', 'expected { maxEncryptedDataKeys, maxFrameLength }');
  const { maxEncryptedDataKeys, maxFrameLength } = limits;
  const maxHeaderLength = limits.maxHeaderLength ?? DEFAULT_MAX_HEADER_LENGTH;
  for (const [name, v] of [
    ['maxEncryptedDataKeys', maxEncryptedDataKeys],
    ['maxFrameLength', maxFrameLength],
    ['maxHeaderLength', maxHeaderLength],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw invalidArgument(name, 'expected a positive integer');
  }
  return { maxEncryptedDataKeys, maxFrameLength, maxHeaderLength };
}

/**
 * The header's steps. Each `yield n` announces that the next reads take n bytes from the
 * reader's offset; the driver makes them available (or, for a buffer, lets the reader report
 * the truncation). Refuses a header that would outgrow `maxHeaderLength` before reading on.
 *
 * `owned`: the reader's bytes belong to the parser and are never written again (the
 * incremental parser's buffer), so the header's byte fields are views of them; otherwise (a
 * caller's buffer, which it may reuse) each is a copy. Views spare a header of n EDKs some
 * 2n + 6 small allocations: most of a parse's cost (dr-report reads 100,000 headers).
 */
function* headerFields(r: Reader, b: Bounds, owned = false): Generator<number, ParsedHeader, void> {
  const take = (n: number, what: string): Uint8Array => (owned ? r.bytesView(n, what) : r.bytesCopy(n, what));
  const want = (n: number): number => {
    if (r.offset + n > b.maxHeaderLength) {
      throw limitExceeded(`message header is longer than maxHeaderLength ${b.maxHeaderLength} bytes`);
    }
    return n;
  };
  yield want(1);
  const version = r.u8('version');
  if (version !== 1 && version !== 2) {
    // 'A' is how a base64-encoded message starts ("AY", "AX", "Ag"): the spec
    // (spec: client-apis/decrypt.md#encrypted-message-format) asks implementations to detect it and
    // say so.
    throw notAMessage(
      version === 0x41 ? 'it looks base64-encoded; decode it first' : `its first byte 0x${hex2(version)} is no message format version`,
    );
  }
  const idLength = version === 1 ? 16 : 32;
  yield want((version === 1 ? 1 : 0) + 2 + idLength + 2);
  if (version === 1 && r.u8('type') !== TYPE_CUSTOMER_AED) throw notAMessage('version 1 header with an unknown message type');
  const suiteId = r.u16('algorithm suite id');
  const suite = SUITES.get(suiteId);
  if (!suite) throw new EnvelopeError('ENVELOPE_UNSUPPORTED', `unsupported algorithm suite ${formatSuiteId(suiteId)}`);
  if (suite.messageFormat !== version) throw malformed(`suite ${formatSuiteId(suiteId)} in a version ${version} header`);
  const messageId = take(idLength, 'message id');
  const ecLength = r.u16('encryption context length');
  yield want(ecLength + 2);
  const encryptionContext = deserializeEncryptionContext(r.bytesView(ecLength, 'encryption context'));
  const edkCount = r.u16('encrypted data key count');
  if (edkCount === 0) throw malformed('no encrypted data keys');
  if (edkCount > b.maxEncryptedDataKeys) {
    throw limitExceeded(`message has ${edkCount} encrypted data keys; the limit is ${b.maxEncryptedDataKeys}`);
  }
  const encryptedDataKeys: EncryptedDataKey[] = [];
  for (let i = 0; i < edkCount; i++) {
    yield want(2);
    const idLen = r.u16('provider id length');
    yield want(idLen + 2);
    const providerId = fromUtf8(r.bytesView(idLen, 'provider id'), 'provider id');
    const infoLen = r.u16('provider info length');
    yield want(infoLen + 2);
    const providerInfo = take(infoLen, 'provider info');
    const keyLen = r.u16('encrypted data key length');
    yield want(keyLen);
    const ciphertext = take(keyLen, 'encrypted data key');
    encryptedDataKeys.push(Object.freeze({ providerId, providerInfo, ciphertext }));
  }
  // The rest has a fixed size: content type, (v1: reserved, IV length), frame length,
  // (v2: suite data), then the header authentication (v1: IV and tag; v2: tag).
  const ivLength = version === 1 ? suite.ivLength : 0;
  yield want(1 + (version === 1 ? 5 : 0) + 4 + (version === 2 ? suite.suiteDataLength : 0) + ivLength + suite.tagLength);
  const contentType = r.u8('content type');
  if (contentType !== CONTENT_TYPE_FRAMED && contentType !== CONTENT_TYPE_NON_FRAMED) throw malformed('unknown content type');
  if (version === 1) {
    if (r.u32('reserved') !== 0) throw malformed('reserved bytes are not zero');
    if (r.u8('IV length') !== suite.ivLength) throw malformed('IV length does not match the suite');
  }
  const frameLength = r.u32('frame length');
  if (contentType === CONTENT_TYPE_NON_FRAMED && frameLength !== 0) throw malformed('non-framed message with a frame length');
  if (contentType === CONTENT_TYPE_FRAMED && frameLength === 0) throw malformed('framed message with frame length 0');
  if (frameLength > b.maxFrameLength) {
    throw limitExceeded(`frame length ${frameLength} exceeds the limit ${b.maxFrameLength}`);
  }
  const suiteData = version === 2 ? take(suite.suiteDataLength, 'algorithm suite data') : new Uint8Array(0);
  const bodyEnd = r.offset;
  const headerIv = take(ivLength, 'header IV');
  const headerAuthTag = take(suite.tagLength, 'header authentication tag');
  return {
    version,
    suite,
    messageId,
    encryptionContext,
    encryptedDataKeys,
    contentType,
    frameLength,
    suiteData,
    body: owned ? r.bytes.subarray(0, bodyEnd) : r.bytes.slice(0, bodyEnd),
    headerIv,
    headerAuthTag,
    length: r.offset,
  };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/**
 * Parses the header at the start of `bytes` (a whole message, or at least its whole header).
 * Every count and length is checked against the limits and the remaining input first; a
 * header cut short is `ENVELOPE_MALFORMED_MESSAGE`. The header's byte fields are copies, unless
 * `owned`: the caller hands `bytes` over and will never write them again, so they may be views
 * (no copies: for readers of many headers, such as `envelope dr-report`).
 */
export function parseHeader(bytes: Uint8Array, limits: HeaderLimits, options: { owned?: boolean } = {}): ParsedHeader {
  if (bytes.byteLength === 0) throw notAMessage('the input is empty');
  const steps = headerFields(new Reader(bytes), bounds(limits), options.owned === true);
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
  }
}

/**
 * An incremental header parser: give it the message's bytes as they arrive, in chunks of any
 * size; it returns the header once the last of its bytes has arrived. It holds only the header's
 * bytes (never more than `maxHeaderLength`), examines each once, and copies each a bounded number
 * of times (its buffer grows by doubling), so its work is linear in the header's length however
 * the input is chunked.
 *
 * @example
 * ```ts
 * const parser = new HeaderParser({ maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 });
 * for await (const chunk of stream) {
 *   const header = parser.push(chunk);
 *   if (header) { useBody(parser.rest); break; }
 * }
 * ```
 */
export class HeaderParser {
  readonly #reader = new Reader(new Uint8Array(0));
  readonly #steps: Generator<number, ParsedHeader, void>;
  #buf = new Uint8Array(0);
  #length = 0;
  /** Bytes the current step reads from the reader's offset. */
  #need = 0;
  #header: ParsedHeader | undefined;
  #rest: Uint8Array = new Uint8Array(0);
  #failed: unknown;
  /** Bytes copied into the parser's buffer so far (growth included): for tests of linearity. */
  #copied = 0;

  constructor(limits: HeaderLimits) {
    // The parser's buffer is written only past what has been read, and replaced (never
    // overwritten) when it grows: the header's fields can be views of it.
    this.#steps = headerFields(this.#reader, bounds(limits), true);
    this.#advance();
  }

  /** The header, once complete. */
  get header(): ParsedHeader | undefined {
    return this.#header;
  }

  /** The bytes of the chunk that completed the header which come after it (a view, not a copy). */
  get rest(): Uint8Array {
    return this.#rest;
  }

  /** Bytes held so far awaiting the rest of the header. */
  get buffered(): number {
    return this.#length;
  }

  /** Bytes this parser has copied so far, growth of its buffer included (diagnostics and tests). */
  get bytesCopied(): number {
    return this.#copied;
  }

  /**
   * Takes the next chunk of the message. Returns the header once it is complete (then
   * {@link rest} holds what the chunk had after it), else undefined. Throws the coded error of a
   * bad or over-long header as soon as the bytes show it; after an error, or once the header is
   * complete, it takes no more input.
   */
  push(chunk: Uint8Array): ParsedHeader | undefined {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#header) throw new EnvelopeError('ENVELOPE_INTERNAL', 'header parser: the header is already complete');
    try {
      let c = chunk;
      for (;;) {
        const missing = this.#need - (this.#length - this.#reader.offset);
        if (missing > 0) {
          if (c.byteLength === 0) return undefined;
          const take = Math.min(missing, c.byteLength);
          this.#append(c.subarray(0, take));
          c = c.subarray(take);
          if (take < missing) return undefined;
        }
        if (this.#advance()) {
          this.#rest = c;
          this.#buf = new Uint8Array(0);
          return this.#header;
        }
      }
    } catch (e) {
      this.#failed = e;
      this.#buf = new Uint8Array(0);
      throw e;
    }
  }

  /** The input has ended: throws unless the header is complete. */
  end(): ParsedHeader {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#header) return this.#header;
    throw this.#length === 0 ? notAMessage('the input is empty') : malformed('truncated message header');
  }

  /** Runs the next step if its bytes are here; true once the header is complete. */
  #advance(): boolean {
    const s = this.#steps.next();
    if (s.done) {
      this.#header = s.value;
      return true;
    }
    this.#need = s.value;
    return false;
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#length + bytes.byteLength;
    if (needed > this.#buf.byteLength) {
      const grown = new Uint8Array(Math.max(needed, this.#buf.byteLength * 2, 256));
      grown.set(this.#buf.subarray(0, this.#length));
      this.#copied += this.#length;
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.#length);
    this.#copied += bytes.byteLength;
    this.#length = needed;
    this.#reader.bytes = this.#buf.subarray(0, this.#length);
  }
}

/**
 * Reads a message header from an async source of chunks (a Node `Readable`, a web stream's
 * reader loop, a file handle's chunks) with a {@link HeaderParser}, and stops reading as soon as
 * the header is complete: leaving the loop closes the iterator (a Node `Readable` is destroyed).
 * For `inspect`, header-only rewrap checks and DR reports: nothing past the header is read.
 *
 * @example
 * ```ts
 * const { header } = await readMessageHeader(createReadStream('data.enc'), { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 26 });
 * ```
 */
export async function readMessageHeader(
  source: AsyncIterable<Uint8Array | string>,
  limits: HeaderLimits,
): Promise<{ header: ParsedHeader; rest: Uint8Array }> {
  const parser = new HeaderParser(limits);
  for await (const c of source) {
    const header = parser.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
    if (header) return { header, rest: parser.rest };
  }
  return { header: parser.end(), rest: new Uint8Array(0) };
}
