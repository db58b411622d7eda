/** Loading RSA keys for the raw RSA keyring: PEM text, DER bytes or node KeyObjects. */
import { KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { invalidArgument } from '@envelope/core';

/**
 * An RSA key as a PEM string (or PEM bytes), DER bytes (public: SPKI or PKCS#1; private: PKCS#8
 * or PKCS#1), or a `KeyObject`. Encrypted private keys: decrypt them with
 * `crypto.createPrivateKey({ key, passphrase })` and pass the KeyObject.
 */
export type RsaKeyInput = string | Uint8Array | KeyObject;

const PEM_START = Buffer.from('-----BEGIN');

type Kind = 'public' | 'private';

function fromDer(der: Buffer, kind: Kind): KeyObject {
  const attempts =
    kind === 'public'
      ? [
          () => createPublicKey({ key: der, format: 'der', type: 'spki' }),
          () => createPublicKey({ key: der, format: 'der', type: 'pkcs1' }),
        ]
      : [
          () => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
          () => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }),
        ];
  let last: unknown;
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

function load(input: RsaKeyInput, kind: Kind): KeyObject {
  if (input instanceof KeyObject) {
    if (kind === 'private' && input.type !== 'private') throw new TypeError(`a ${input.type} KeyObject`);
    // A private KeyObject given as the public key: its public half, which the caller asked for.
    return kind === 'public' && input.type === 'private' ? createPublicKey(input) : input;
  }
  if (typeof input === 'string') return kind === 'public' ? createPublicKey(input) : createPrivateKey(input);
  if (input instanceof Uint8Array) {
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (bytes.subarray(0, PEM_START.byteLength).equals(PEM_START)) {
      return kind === 'public' ? createPublicKey(bytes) : createPrivateKey(bytes);
    }
    return fromDer(bytes, kind);
  }
  throw new TypeError('expected a PEM string, DER bytes or a KeyObject');
}

/**
 * Loads an RSA key of the given kind, or throws `ENVELOPE_INVALID_ARGUMENT` naming `param`.
 * For the public kind, a private key is accepted and its public half returned: passing the same
 * PEM as both keys is an explicit request, unlike deriving one behind the caller's back.
 */
export function loadRsaKey(input: unknown, kind: Kind, param: string): KeyObject {
  let key: KeyObject;
  try {
    key = load(input as RsaKeyInput, kind);
  } catch (e) {
    // Never echo the input: it may be a private key.
    throw invalidArgument(param, `not a valid RSA ${kind} key (PEM, DER or KeyObject)`, { cause: e });
  }
  if (key.type === 'secret' || key.asymmetricKeyType !== 'rsa') {
    throw invalidArgument(param, `expected an RSA key, got ${key.asymmetricKeyType ?? key.type}`);
  }
  return key;
}

/**
 * The smallest RSA modulus the raw RSA keyring wraps under, in bits (NIST SP 800-57 Part 1 and
 * SP 800-131A: 2048 bits for 112-bit security; smaller moduli are disallowed for key transport).
 */
export const MIN_RSA_BITS = 2048;

/** The modulus length in bits. */
export function modulusBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 0;
}

/** Whether two RSA keys have the same public half. */
export function samePublicKey(publicKey: KeyObject, privateKey: KeyObject): boolean {
  const a = publicKey.export({ format: 'der', type: 'spki' });
  const b = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return a.equals(b);
}
