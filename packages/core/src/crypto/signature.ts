/**
 * ECDSA message signatures (spec: framework/transitive-requirements.md#ecdsa,
 * data-format/message-footer.md). The verification key travels in the encryption context as
 * the base64 of the compressed SEC1 point.
 */
import { ECDH, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { EnvelopeError, malformed } from '../errors.js';
import type { CurveName } from '../suites.js';

const OPENSSL_CURVE: Record<CurveName, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' };
const COORD_LEN: Record<CurveName, number> = { 'P-256': 32, 'P-384': 48 };

export interface SigningKeyPair {
  privateKey: KeyObject;
  /** base64 of the compressed public point, for the `aws-crypto-public-key` context value. */
  publicKeyBase64: string;
}

export function generateSigningKey(curve: CurveName): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { privateKey, publicKeyBase64: compressPublicKey(publicKey, curve).toString('base64') };
}

export function compressPublicKey(publicKey: KeyObject, curve: CurveName): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  const uncompressed = Buffer.concat([Buffer.from([4]), x, y]);
  return ECDH.convertKey(uncompressed, OPENSSL_CURVE[curve], undefined, undefined, 'compressed') as Buffer;
}

/** Parses the context's verification key; anything malformed is a malformed message. */
export function parseVerificationKey(base64: string, curve: CurveName): KeyObject {
  const n = COORD_LEN[curve];
  const compressed = Buffer.from(base64, 'base64');
  if (compressed.byteLength !== n + 1 || compressed.toString('base64') !== base64 || (compressed[0] !== 2 && compressed[0] !== 3)) {
    throw malformed('invalid verification key in encryption context');
  }
  let point: Buffer;
  try {
    point = ECDH.convertKey(compressed, OPENSSL_CURVE[curve], undefined, undefined, 'uncompressed') as Buffer;
  } catch {
    throw malformed('invalid verification key in encryption context');
  }
  try {
    return createPublicKey({
      key: { kty: 'EC', crv: curve, x: point.subarray(1, 1 + n).toString('base64url'), y: point.subarray(1 + n).toString('base64url') },
      format: 'jwk',
    });
  } catch (e) {
    throw new EnvelopeError('ENVELOPE_MALFORMED_MESSAGE', 'malformed message: invalid verification key in encryption context', { cause: e });
  }
}
