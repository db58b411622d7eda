/**
 * Constructor checks shared by the raw keyrings: bad arguments are caught at the edge, with a
 * coded error that names the parameter (and never echoes key material).
 */
import { EnvelopeError, invalidArgument, type KeyFailure } from '@envelope/core';

/**
 * A key namespace or key name (spec: framework/keyring-interface.md#key-namespace)
 * (spec: framework/keyring-interface.md#key-name): a non-empty, well-formed string whose UTF-8 form
 * fits the header's u16 length fields.
 */
export function checkName(value: unknown, param: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(param, 'expected a non-empty string');
  // A lone surrogate would be written as U+FFFD and never match on decrypt.
  if (!value.isWellFormed()) throw invalidArgument(param, 'not well-formed Unicode (lone surrogate)');
  if (Buffer.byteLength(value, 'utf8') > 0xffff) throw invalidArgument(param, 'longer than 65535 UTF-8 bytes');
  return value;
}

/**
 * A raw keyring's key namespace. A raw keyring MUST NOT accept the namespace "aws-kms", which
 * belongs to KMS keyrings (since version 0.3.0 of both raw keyrings:
 * (spec: framework/raw-aes-keyring.md#changelog) (spec: framework/raw-rsa-keyring.md#changelog)).
 */
export function checkNamespace(value: unknown, param: string): string {
  const ns = checkName(value, param);
  if (ns === 'aws-kms') throw invalidArgument(param, '"aws-kms" is reserved for AWS KMS keyrings');
  return ns;
}

/** Byte equality for public values (names, provider info): no constant-time need. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** The error a raw keyring throws when some of its own EDKs failed and none unwrapped. */
export function noDecryptableKey(kind: string, keyId: string, causes: readonly KeyFailure[]): EnvelopeError {
  const reasons = [...new Set(causes.map((c) => c.reason))].join('; ');
  return new EnvelopeError(
    'ENVELOPE_NO_DECRYPTABLE_KEY',
    `${kind} ${keyId} could not unwrap any of its ${causes.length} encrypted data key(s): ${reasons}`,
    { causes },
  );
}
