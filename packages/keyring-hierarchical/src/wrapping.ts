/**
 * Branch key wrapping (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#branch-key-wrapping)
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#branch-key-unwrapping)
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#branch-key-wrapping-and-unwrapping-aad)
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#ciphertext).
 *
 * Per data key: a 16-byte salt and a 12-byte IV from the CSPRNG; a 32-byte wrapping key derived
 * from the branch key with NIST SP 800-108 KDF in counter mode (HMAC-SHA-256, label
 * "aws-kms-hierarchy", context = the salt); AES-256-GCM of the data key under it with the AAD
 * "aws-kms-hierarchy" ‖ branch key id ‖ version (16 bytes) ‖ serialized encryption context.
 * The EDK ciphertext is salt ‖ IV ‖ version ‖ encrypted key ‖ tag.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { serializeEncryptionContext, serializeEncryptionContextInOrder, type EncryptionContext } from '@envelope/core';

/** The EDK provider id of hierarchical keyrings. */
export const PROVIDER_ID = 'aws-kms-hierarchy';
const LABEL = Buffer.from(PROVIDER_ID, 'utf8');
const SALT_LENGTH = 16;
const IV_LENGTH = 12;
const VERSION_LENGTH = 16;
const TAG_LENGTH = 16;
/** Bytes before the encrypted key: salt, IV, version. */
const PREFIX_LENGTH = SALT_LENGTH + IV_LENGTH + VERSION_LENGTH;
/** SP 800-108 fixed input around the context: the counter i = 1 and L = 256 bits, both uint32 big-endian. */
const COUNTER_ONE = Buffer.from([0, 0, 0, 1]);
const SEPARATOR = Buffer.from([0]);
const LENGTH_256_BITS = Buffer.from([0, 0, 1, 0]);

/**
 * The 32-byte wrapping key for one data key. SP 800-108 counter mode: K(i) = PRF(K_in, [i]₃₂ ‖
 * Label ‖ 0x00 ‖ Context ‖ [L]₃₂); one HMAC-SHA-256 block is exactly L = 256 bits, so i = 1 only.
 */
export function deriveWrappingKey(branchKey: Uint8Array, salt: Uint8Array): Buffer {
  return createHmac('sha256', branchKey).update(COUNTER_ONE).update(LABEL).update(SEPARATOR).update(salt).update(LENGTH_256_BITS).digest();
}

/** The AAD of one wrap: "aws-kms-hierarchy" ‖ UTF-8 branch key id ‖ version bytes ‖ context. */
export function wrappingAad(branchKeyId: string, version: Uint8Array, serializedContext: Uint8Array): Buffer {
  return Buffer.concat([LABEL, Buffer.from(branchKeyId, 'utf8'), version, serializedContext]);
}

/** The EDK ciphertext's fields (views into the EDK; nothing copied). */
export interface WrappedKey {
  readonly salt: Uint8Array;
  readonly iv: Uint8Array;
  readonly version: Uint8Array;
  readonly encryptedKey: Uint8Array;
  readonly tag: Uint8Array;
}

/** Size of an EDK ciphertext for a data key of `keyLength` bytes. */
export function wrappedLength(keyLength: number): number {
  return PREFIX_LENGTH + keyLength + TAG_LENGTH;
}

/**
 * Splits an EDK ciphertext, or undefined when its length is not the one a data key of
 * `keyLength` bytes makes (checked before any slicing: the bytes are untrusted).
 */
export function parseWrappedKey(ciphertext: Uint8Array, keyLength: number): WrappedKey | undefined {
  if (ciphertext.byteLength !== wrappedLength(keyLength)) return undefined;
  const at = (start: number, length: number) => ciphertext.subarray(start, start + length);
  return {
    salt: at(0, SALT_LENGTH),
    iv: at(SALT_LENGTH, IV_LENGTH),
    version: at(SALT_LENGTH + IV_LENGTH, VERSION_LENGTH),
    encryptedKey: at(PREFIX_LENGTH, keyLength),
    tag: at(PREFIX_LENGTH + keyLength, TAG_LENGTH),
  };
}

/**
 * Wraps `dataKey` under a key derived from `branchKey`: the EDK ciphertext. The derived key is
 * wiped before returning.
 */
export function wrapDataKey(o: {
  branchKey: Uint8Array;
  branchKeyId: string;
  version: Uint8Array;
  dataKey: Uint8Array;
  encryptionContext: EncryptionContext;
}): Uint8Array {
  const salt = randomBytes(SALT_LENGTH);
  const iv = randomBytes(IV_LENGTH);
  const key = deriveWrappingKey(o.branchKey, salt);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(wrappingAad(o.branchKeyId, o.version, serializeEncryptionContext(o.encryptionContext)));
    const head = cipher.update(o.dataKey);
    const tail = cipher.final();
    return Buffer.concat([salt, iv, o.version, head, tail, cipher.getAuthTag()]);
  } finally {
    key.fill(0);
  }
}

/**
 * Unwraps an EDK: the data key (the caller owns and wipes it), or undefined when the tag does
 * not authenticate under any accepted context order. The spec's order (keys sorted by UTF-8
 * bytes) is tried first; when the AWS Encryption SDK for JavaScript's legacy order
 * (`localeCompare`, its `utf8Sorting: false` default) differs, that is tried second, so messages
 * its hierarchical keyring wrote with non-ASCII context keys still open.
 */
export function unwrapDataKey(o: {
  branchKey: Uint8Array;
  branchKeyId: string;
  wrapped: WrappedKey;
  encryptionContext: EncryptionContext;
}): Uint8Array | undefined {
  const key = deriveWrappingKey(o.branchKey, o.wrapped.salt);
  try {
    const spec = serializeEncryptionContext(o.encryptionContext);
    const first = open(key, o, spec);
    if (first) return first;
    const legacy = serializeEncryptionContextInOrder(Object.entries(o.encryptionContext).sort(([a], [b]) => a.localeCompare(b)));
    return Buffer.from(legacy).equals(spec) ? undefined : open(key, o, legacy);
  } finally {
    key.fill(0);
  }
}

function open(key: Buffer, o: { branchKeyId: string; wrapped: WrappedKey }, context: Uint8Array): Uint8Array | undefined {
  const w = o.wrapped;
  const decipher = createDecipheriv('aes-256-gcm', key, w.iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(wrappingAad(o.branchKeyId, w.version, context));
  decipher.setAuthTag(w.tag);
  const head = decipher.update(w.encryptedKey);
  try {
    const tail = decipher.final();
    return tail.byteLength ? Buffer.concat([head, tail]) : head;
  } catch {
    head.fill(0);
    return undefined;
  }
}
