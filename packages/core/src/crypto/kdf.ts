/**
 * Data key derivation (spec: framework/transitive-requirements.md, "HKDF Encryption Key" and
 * "HKDF Commit Key"; framework/algorithm-suites.md key derivation settings).
 */
import { hkdfSync, timingSafeEqual } from 'node:crypto';
import { authenticationFailed } from '../errors.js';
import type { AlgorithmSuite } from '../suites.js';

const DERIVEKEY = Buffer.from('DERIVEKEY', 'utf8');
const COMMITKEY = Buffer.from('COMMITKEY', 'utf8');

function suiteIdBytes(suite: AlgorithmSuite): Buffer {
  return Buffer.from([suite.id >>> 8, suite.id & 0xff]);
}

/**
 * Derives the key that encrypts the body. The caller owns (and wipes) the result.
 * - identity KDF: a copy of the data key;
 * - HKDF without commitment: salt of zeros, info = suite id || message id;
 * - HKDF with commitment: salt = message id, info = suite id || "DERIVEKEY".
 */
export function deriveEncryptionKey(suite: AlgorithmSuite, dataKey: Uint8Array, messageId: Uint8Array): Buffer {
  if (!suite.kdfHash) return Buffer.from(dataKey);
  if (suite.commitment) {
    return Buffer.from(hkdfSync(suite.kdfHash, dataKey, messageId, Buffer.concat([suiteIdBytes(suite), DERIVEKEY]), suite.keyLength));
  }
  // An empty salt is HKDF's default: HashLen zero bytes (RFC 5869 §2.2), as the spec requires.
  return Buffer.from(hkdfSync(suite.kdfHash, dataKey, Buffer.alloc(0), Buffer.concat([suiteIdBytes(suite), Buffer.from(messageId)]), suite.keyLength));
}

/** The commit key of a committing suite: HKDF(salt = message id, info = "COMMITKEY"). */
export function deriveCommitKey(suite: AlgorithmSuite, dataKey: Uint8Array, messageId: Uint8Array): Buffer {
  return Buffer.from(hkdfSync(suite.kdfHash!, dataKey, messageId, COMMITKEY, suite.suiteDataLength));
}

/** Constant-time check of the header's commit key. */
export function verifyCommitKey(suite: AlgorithmSuite, dataKey: Uint8Array, messageId: Uint8Array, stored: Uint8Array): void {
  const derived = deriveCommitKey(suite, dataKey, messageId);
  const ok = derived.byteLength === stored.byteLength && timingSafeEqual(derived, stored);
  derived.fill(0);
  if (!ok) throw authenticationFailed();
}
