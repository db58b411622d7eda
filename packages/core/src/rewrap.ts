/**
 * Rewrap: re-key a stored message.
 *
 * - Unsigned suites: header-only. A new header (new EDK list, recomputed tag) and the body
 *   copied byte for byte: O(header), whatever the message size.
 * - Signed suites sign the header, and the signing key is gone after encryption, so they are
 *   decrypted and encrypted afresh with a new signing key, frame by frame with bounded memory;
 *   the new message is completed only after the old signature verifies. The result says which.
 *
 * Either way, required-context pairs stay out of the new header and stay required.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { EnvelopeError, invalidArgument } from './errors.js';
import { HeaderParser, parseHeader } from './format/header-parser.js';
import type { ParsedHeader } from './format/header.js';
import { checkRewrapOptions, type CheckedRewrap, type RewrapOptions, type RewrapSummary } from './rewrap/options.js';
import { rewrapHeader } from './rewrap/header-only.js';
import { Reencryptor } from './rewrap/reencrypt.js';
import type { MessageInfo } from './message/message-info.js';

export type { RewrapMode, RewrapOptions, RewrapSummary } from './rewrap/options.js';

export interface RewrapResult {
  /** The rewrapped message. For a header-only rewrap it is joined from `parts` on first access. */
  readonly message: Uint8Array;
  /**
   * Header-only rewraps: the new header and a view of the original body. Write them in order
   * (e.g. `writev`) to keep the whole rewrap O(header): no copy of the body is made.
   */
  readonly parts?: readonly [header: Uint8Array, body: Uint8Array];
  /** `header-only`: body copied byte for byte. `re-encrypted`: signed suite, decrypted and encrypted afresh. */
  readonly method: 'header-only' | 're-encrypted';
  readonly messageInfo: MessageInfo;
  readonly added: number;
  readonly removed: number;
}

/**
 * Rewraps a whole message held in memory.
 *
 * @example
 * ```ts
 * // Add a disaster-recovery region's key to an existing message:
 * const { message } = await rewrap(old, { from: primaryKeyring, to: drKeyring, mode: 'add' });
 * ```
 */
export async function rewrap(message: Uint8Array, options: RewrapOptions): Promise<RewrapResult> {
  if (!(message instanceof Uint8Array)) throw invalidArgument('message', 'expected a Uint8Array');
  const c = checkRewrapOptions(options);
  const header = parseHeader(message, c.decryptOptions);
  if (header.suite.signature) {
    const r = new Reencryptor(c);
    try {
      const parts = [...(await r.update(message)), ...(await r.finish())];
      return { message: Buffer.concat(parts), ...r.summary! };
    } finally {
      r.dispose();
    }
  }
  const { bytes, summary } = await rewrapHeader(header, c);
  const parts = [bytes, message.subarray(header.length)] as const;
  let joined: Uint8Array | undefined;
  return {
    get message() {
      if (!joined) {
        joined = new Uint8Array(parts[0].byteLength + parts[1].byteLength);
        joined.set(parts[0]);
        joined.set(parts[1], parts[0].byteLength);
      }
      return joined;
    },
    parts,
    ...summary,
  };
}

/**
 * Streaming rewrap: a Node `Transform` from a message to the rewrapped message, with memory
 * bounded whatever the message's size. Emits `'rewrap'` with a {@link RewrapSummary}: for a
 * header-only rewrap when the new header is written, for a re-encryption once it has completed.
 *
 * - Unsigned suites: the new header, then the body streams through untouched.
 * - Signed suites: re-encrypted frame by frame. The new message's final frame and signature are
 *   written only after the old signature verifies; before that, the output is ciphertext of an
 *   unfinished message.
 *
 * On error (a bad frame or signature, a keyring failure, an abort) the output so far is not a
 * valid message and must be discarded: write it to a private temporary and rename it over the
 * original only after the stream has ended without error (as `envelope rewrap` does).
 *
 * @example
 * ```ts
 * await pipeline(createReadStream('a.enc'), rewrapStream({ from, to }), createWriteStream('.a.enc.tmp'));
 * await rename('.a.enc.tmp', 'a.enc');
 * ```
 */
export function rewrapStream(options: RewrapOptions): Transform {
  const c = checkRewrapOptions(options);
  const parser = new HeaderParser(c.decryptOptions);
  let phase: 'header' | 'body' | 'signed' = 'header';
  let re: Reencryptor | undefined;
  const pushAll = (t: Transform, parts: readonly Uint8Array[]): void => {
    for (const p of parts) if (p.byteLength) t.push(p);
  };
  return new Transform({
    transform(chunk: Uint8Array, _enc, cb: TransformCallback) {
      if (phase === 'body') {
        cb(null, chunk);
        return;
      }
      if (phase === 'signed') {
        re!.update(chunk).then((parts) => {
          pushAll(this, parts);
          cb();
        }, cb);
        return;
      }
      let header: ParsedHeader | undefined;
      try {
        header = parser.push(chunk);
      } catch (e) {
        cb(e as Error);
        return;
      }
      if (!header) {
        cb();
        return;
      }
      const rest = parser.rest;
      if (header.suite.signature) {
        phase = 'signed';
        re = new Reencryptor(c);
        // The decryptor reads the message from its first byte: the header as it was, then the rest.
        re.update(headerBytes(header))
          .then((a) => re!.update(rest).then((b) => [...a, ...b]))
          .then((parts) => {
            pushAll(this, parts);
            cb();
          }, cb);
        return;
      }
      startHeaderOnly(this, header, rest, c).then(() => {
        phase = 'body';
        cb();
      }, cb);
    },
    flush(cb: TransformCallback) {
      if (phase === 'body') {
        cb();
        return;
      }
      if (phase === 'header') {
        try {
          parser.end(); // throws: the input ended inside the header
          cb(new EnvelopeError('ENVELOPE_INTERNAL', 'rewrap: a complete header was not handled'));
        } catch (e) {
          cb(e as Error);
        }
        return;
      }
      re!.finish().then((parts) => {
        pushAll(this, parts);
        this.emit('rewrap', re!.summary);
        cb();
      }, cb);
    },
    destroy(err, cb) {
      re?.dispose();
      cb(err);
    },
  });
}

async function startHeaderOnly(t: Transform, header: ParsedHeader, rest: Uint8Array, c: CheckedRewrap): Promise<void> {
  const { bytes, summary } = await rewrapHeader(header, c);
  t.emit('rewrap', summary satisfies RewrapSummary);
  t.push(bytes);
  if (rest.byteLength) t.push(rest);
}

/** The header's bytes exactly as they were read: body, then its authentication. */
function headerBytes(h: ParsedHeader): Uint8Array {
  return Buffer.concat([h.body, h.headerIv, h.headerAuthTag]);
}
