/**
 * Encryption context: string pairs authenticated with the message
 * (spec: framework/structures.md#serialization).
 */
import { EnvelopeError, invalidArgument, malformed } from './errors.js';
import { Reader, Writer, fromUtf8, utf8 } from './bytes.js';

/** String key/value pairs; authenticated but not encrypted. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** The reserved key under which signed suites store the verification key. */
export const PUBLIC_KEY_CONTEXT_KEY = 'aws-crypto-public-key';

/** Keys beginning with this prefix are reserved for the library. */
export const RESERVED_PREFIX = 'aws-crypto-';

/**
 * Builds a context from key/value pairs, as a frozen object without a prototype: every key is an
 * ordinary own key, `__proto__` and `constructor` included (on a plain `{}`, assigning
 * `__proto__` would set the prototype and drop the pair silently). A key given twice is refused.
 * Command-line and configuration parsers build contexts with this.
 *
 * @example
 * ```ts
 * const ec = encryptionContextFromPairs([['tenant', 'a'], ['__proto__', 'x']]);
 * Object.keys(ec); // ['tenant', '__proto__']
 * ```
 */
export function encryptionContextFromPairs(pairs: Iterable<readonly [string, string]>, param = 'encryptionContext'): EncryptionContext {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of pairs) {
    if (Object.prototype.hasOwnProperty.call(out, k)) throw invalidArgument(param, `key ${JSON.stringify(k)} given twice`);
    out[k] = v;
  }
  return checkEncryptionContext(out, param);
}

/** A copy of `ec` with `key` set to `value` (frozen, no prototype). */
export function withPair(ec: EncryptionContext, key: string, value: string): EncryptionContext {
  const out: Record<string, string> = Object.assign(Object.create(null), ec);
  out[key] = value;
  return Object.freeze(out);
}

/** A copy of `ec` without the pairs whose keys `drop` names (frozen, no prototype). */
export function withoutKeys(ec: EncryptionContext, drop: (key: string) => boolean): EncryptionContext {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(ec)) if (!drop(k)) out[k] = v;
  return Object.freeze(out);
}

/** Validates caller input at the edge and returns a frozen, null-prototype copy. */
export function checkEncryptionContext(ec: unknown, param = 'encryptionContext'): EncryptionContext {
  if (ec === undefined) return Object.freeze(Object.create(null) as Record<string, string>);
  if (ec === null || typeof ec !== 'object' || Array.isArray(ec)) {
    throw invalidArgument(param, 'expected an object of string pairs');
  }
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(ec)) {
    if (typeof v !== 'string') throw invalidArgument(`${param}.${k}`, 'expected a string value');
    if (k.length === 0) throw invalidArgument(param, 'empty keys are not allowed');
    if (!k.isWellFormed() || !v.isWellFormed()) throw invalidArgument(`${param}.${k}`, 'not well-formed Unicode');
    out[k] = v;
  }
  return Object.freeze(out);
}

/** Throws if the caller used a reserved key (aws-crypto-*). */
export function assertNoReservedKeys(ec: EncryptionContext, param = 'encryptionContext'): void {
  for (const k of Object.keys(ec)) {
    if (k.startsWith(RESERVED_PREFIX)) throw invalidArgument(`${param}.${k}`, `keys beginning with ${RESERVED_PREFIX} are reserved`);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Canonical serialization: empty for an empty context; otherwise count (u16) and pairs sorted
 * by the UTF-8 bytes of the key, each as u16-length-prefixed UTF-8.
 */
export function serializeEncryptionContext(ec: EncryptionContext): Uint8Array {
  const entries = Object.entries(ec).map(([k, v]) => [utf8(k), utf8(v)] as const);
  entries.sort((a, b) => compareBytes(a[0], b[0]));
  return serializePairs(entries);
}

/**
 * Serializes pairs in the order given. For interop only: older AWS Encryption SDK for
 * JavaScript releases ordered keys with `localeCompare` (their `utf8Sorting: false` default),
 * which differs from the spec's byte order for some non-ASCII keys.
 */
export function serializeEncryptionContextInOrder(pairs: readonly (readonly [string, string])[]): Uint8Array {
  return serializePairs(pairs.map(([k, v]) => [utf8(k), utf8(v)] as const));
}

function serializePairs(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  if (entries.length === 0) return new Uint8Array(0);
  if (entries.length > 0xffff) throw new EnvelopeError('ENVELOPE_LIMIT_EXCEEDED', 'encryption context has more than 65535 pairs');
  const w = new Writer();
  w.u16(entries.length);
  for (const [k, v] of entries) {
    w.lp16(k, 'encryption context key');
    w.lp16(v, 'encryption context value');
  }
  const out = w.finish();
  if (out.byteLength > 0xffff) throw new EnvelopeError('ENVELOPE_LIMIT_EXCEEDED', 'serialized encryption context exceeds 65535 bytes');
  return out;
}

/**
 * Parses a serialized context (the header's key-value pairs field). Rejects duplicates,
 * invalid UTF-8, trailing bytes and a zero count.
 */
export function deserializeEncryptionContext(bytes: Uint8Array): EncryptionContext {
  const out: Record<string, string> = Object.create(null);
  if (bytes.byteLength === 0) return Object.freeze(out);
  const r = new Reader(bytes);
  const count = r.u16('encryption context count');
  if (count === 0) throw malformed('encryption context count is zero');
  for (let i = 0; i < count; i++) {
    const k = fromUtf8(r.bytesView(r.u16('encryption context key length'), 'encryption context key'), 'encryption context key');
    const v = fromUtf8(r.bytesView(r.u16('encryption context value length'), 'encryption context value'), 'encryption context value');
    if (Object.prototype.hasOwnProperty.call(out, k)) throw malformed('duplicate encryption context key');
    out[k] = v;
  }
  if (r.remaining !== 0) throw malformed('trailing bytes after encryption context');
  return Object.freeze(out);
}

/** Returns the pairs of `ec` whose keys are in `keys`. */
export function pick(ec: EncryptionContext, keys: readonly string[]): EncryptionContext {
  const out: Record<string, string> = Object.create(null);
  for (const k of keys) if (Object.prototype.hasOwnProperty.call(ec, k)) out[k] = ec[k]!;
  return Object.freeze(out);
}
