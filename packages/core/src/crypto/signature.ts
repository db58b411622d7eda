/**
 * ECDSA message signatures (spec: framework/transitive-requirements.md#ecdsa,
 * data-format/message-footer.md). The verification key travels in the encryption context as
 * the base64 of the compressed SEC1 point.
 *
 * Points move between the context and OpenSSL as SubjectPublicKeyInfo DER built around the
 * point: OpenSSL decodes (and validates) compressed points itself, and this avoids a JWK
 * round trip that cost a sixth of a signed message's decrypt.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { EnvelopeError, malformed } from '../errors.js';
import type { CurveName } from '../suites.js';

/** SPKI DER prefixes (algorithm id-ecPublicKey + named curve, BIT STRING header). */
const SPKI_COMPRESSED: Record<CurveName, Buffer> = {
  'P-256': Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
  'P-384': Buffer.from('3046301006072a8648ce3d020106052b81040022033200', 'hex'),
};
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

/** The compressed SEC1 point of an EC public key: 02/03 (parity of y) ‖ x. */
export function compressPublicKey(publicKey: KeyObject, curve: CurveName): Buffer {
  const n = COORD_LEN[curve];
  // Uncompressed SPKI ends with 04 ‖ x ‖ y.
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const point = spki.subarray(spki.byteLength - (1 + 2 * n));
  if (point[0] !== 4) throw new EnvelopeError('ENVELOPE_INTERNAL', 'unexpected EC public key encoding');
  const out = Buffer.alloc(1 + n);
  out[0] = 2 + (point[2 * n]! & 1);
  point.copy(out, 1, 1, 1 + n);
  return out;
}

/** Parses the context's verification key; anything malformed is a malformed message. */
export function parseVerificationKey(base64: string, curve: CurveName): KeyObject {
  const n = COORD_LEN[curve];
  const compressed = Buffer.from(base64, 'base64');
  if (compressed.byteLength !== n + 1 || compressed.toString('base64') !== base64 || (compressed[0] !== 2 && compressed[0] !== 3)) {
    throw malformed('invalid verification key in encryption context');
  }
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_COMPRESSED[curve], compressed]), format: 'der', type: 'spki' });
  } catch (e) {
    throw new EnvelopeError('ENVELOPE_MALFORMED_MESSAGE', 'malformed message: invalid verification key in encryption context', { cause: e });
  }
}
