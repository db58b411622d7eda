/**
 * Data key derivation (spec: framework/transitive-requirements.md#hkdf-encryption-key)
 * (spec: framework/transitive-requirements.md#hkdf-commit-key)
 * (spec: framework/algorithm-suites.md#algorithm-suites-encryption-key-derivation-settings).
 *
 * HKDF (RFC 5869) written over HMAC so that committing suites extract once and expand twice
 * (the spec's SHOULD), and because every output here is at most one hash block long: the
 * expand step is a single HMAC(PRK, info ‖ 0x01). node:crypto's hkdfSync costs a KeyObject per
 * call, which was a quarter of a small message's round trip.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { authenticationFailed } from '../errors.js';
import type { AlgorithmSuite, HashName } from '../suites.js';

const DERIVEKEY = Buffer.from('DERIVEKEY', 'utf8');
const COMMITKEY = Buffer.from('COMMITKEY', 'utf8');
const ONE = Buffer.from([1]);
const HASH_LEN: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

function extract(hash: HashName, salt: Uint8Array | undefined, ikm: Uint8Array): Buffer {
  // An absent salt is HashLen zero bytes (RFC 5869 §2.2), as the spec requires.
  return createHmac(hash, salt && salt.byteLength ? salt : Buffer.alloc(HASH_LEN[hash]))
    .update(ikm)
    .digest();
}

/** One-block expand: T(1) = HMAC(PRK, info ‖ 0x01), truncated. Every length here is ≤ HashLen. */
function expand(hash: HashName, prk: Buffer, info: readonly Uint8Array[], length: number): Buffer {
  const h = createHmac(hash, prk);
  for (const part of info) h.update(part);
  const t = h.update(ONE).digest();
  const out = Buffer.from(t.subarray(0, length));
  t.fill(0);
  return out;
}

function suiteIdBytes(suite: AlgorithmSuite): Buffer {
  return Buffer.from([suite.id >>> 8, suite.id & 0xff]);
}

export interface DerivedKeys {
  /** The key that encrypts the body and authenticates the header. The caller wipes it. */
  readonly key: Buffer;
  /** Committing suites: the commit key (the header's suite data). The caller wipes it. */
  readonly commitKey: Buffer | undefined;
}

/**
 * Derives the message key (and, for committing suites, the commit key):
 * - identity KDF: a copy of the data key;
 * - HKDF without commitment: salt of zeros, info = suite id ‖ message id;
 * - HKDF with commitment: salt = message id; info = suite id ‖ "DERIVEKEY" / "COMMITKEY".
 */
export function deriveKeys(suite: AlgorithmSuite, dataKey: Uint8Array, messageId: Uint8Array): DerivedKeys {
  const hash = suite.kdfHash;
  if (!hash) return { key: Buffer.from(dataKey), commitKey: undefined };
  if (!suite.commitment) {
    const prk = extract(hash, undefined, dataKey);
    const key = expand(hash, prk, [suiteIdBytes(suite), messageId], suite.keyLength);
    prk.fill(0);
    return { key, commitKey: undefined };
  }
  const prk = extract(hash, messageId, dataKey);
  const key = expand(hash, prk, [suiteIdBytes(suite), DERIVEKEY], suite.keyLength);
  const commitKey = expand(hash, prk, [COMMITKEY], suite.suiteDataLength);
  prk.fill(0);
  return { key, commitKey };
}

/** Constant-time check of the header's commit key; wipes the derived one. */
export function verifyCommitKey(derived: Buffer, stored: Uint8Array): void {
  const ok = derived.byteLength === stored.byteLength && timingSafeEqual(derived, stored);
  derived.fill(0);
  if (!ok) throw authenticationFailed();
}
