/**
 * Cache entry identifiers
 * (spec: framework/caching-cmm.md#appendix-a-cache-entry-identifier-formulas), in spirit: SHA-384
 * over the resource id (caching CMM), the scope (encrypt/decrypt), the partition and the request.
 * We differ from the spec's formula on purpose:
 *
 * - every variable-length field is length-prefixed instead of NULL-separated, so a partition or
 *   context holding NUL characters cannot be read as a different split of the same input;
 * - the commitment policy is included (without a suite it picks the default suite), and so are
 *   the required-encryption-context keys (they change the header) and, for decrypt, the
 *   caller's reproduced context (it changes the materials' context);
 * - the encryption context is encoded as its sorted keys and values, each length-prefixed in
 *   UTF-16 code units, and the whole id is hashed as UTF-16: an injective encoding of the
 *   context's strings, so two contexts share an id only if they are equal string for string
 *   (hence serialize to the same header bytes). It is what the spec's
 *   `SerializeEncryptionContext` distinguishes, and more (lone surrogates, which UTF-8 would
 *   merge), without its 64 KiB limit, and about 4× cheaper on the hit path than serializing
 *   (the hash input is never stored or sent, so it need not be the wire format).
 *
 * Ids never leave the process, so interop with other SDKs' cache ids is not a goal.
 */
import * as nodeCrypto from 'node:crypto';
import type { DecryptionMaterialsRequest, EncryptedDataKey, EncryptionContext, EncryptionMaterialsRequest } from '@envelope/core';

const RESOURCE_CACHING_CMM = '\u0001';
const SCOPE_ENCRYPT = '\u0001';
const SCOPE_DECRYPT = '\u0002';

/** A length-prefixed field: `<UTF-16 length>:<text>`. */
function lp(s: string): string {
  return `${s.length}:${s}`;
}

/** Bytes as a string of the same length, one code unit per byte. */
function bytes(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Sorted keys and values, each length-prefixed, after the pair count. */
function context(ec: EncryptionContext): string {
  const keys = Object.keys(ec).sort();
  let s = `${keys.length}|`;
  for (const k of keys) s += lp(k) + lp(ec[k]!);
  return s;
}

function edk(e: EncryptedDataKey): string {
  return lp(e.providerId) + lp(bytes(e.providerInfo)) + lp(bytes(e.ciphertext));
}

/** One-shot `crypto.hash` (Node ≥ 20.12) is about twice as fast as a Hash object for short input. */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'base64') => string }).hash;

function digest(s: string): string {
  const input = Buffer.from(s, 'utf16le');
  return typeof oneShot === 'function'
    ? oneShot('sha384', input, 'base64')
    : nodeCrypto.createHash('sha384').update(input).digest('base64');
}

/**
 * The cache id of an encryption-materials request in `partition`: partition, suite (or "none"
 * when the caller did not pick one), commitment policy, encryption context and the sorted
 * required-context keys.
 */
export function encryptCacheKey(partition: string, r: EncryptionMaterialsRequest): string {
  // Spec: 0x00 "without algorithm suite", or 0x01 followed by the suite id.
  const suite = r.suite ? `\u0001${r.suite.id}|` : '\u0000';
  const required = r.requiredEncryptionContextKeys;
  let req = '0|';
  if (required !== undefined && required.length > 0) {
    const sorted = [...required].sort();
    req = `${sorted.length}|${sorted.map(lp).join('')}`;
  }
  return digest(RESOURCE_CACHING_CMM + SCOPE_ENCRYPT + lp(partition) + suite + lp(r.commitmentPolicy) + context(r.encryptionContext) + req);
}

/**
 * The cache id of a decrypt-materials request in `partition`: partition, suite id, commitment
 * policy, the sorted encrypted data keys, the header's encryption context and the caller's
 * reproduced context (or its absence).
 */
export function decryptCacheKey(partition: string, r: DecryptionMaterialsRequest): string {
  const edks = r.encryptedDataKeys.map(edk).sort();
  const reproduced = r.reproducedEncryptionContext === undefined ? '\u0000' : `\u0001${context(r.reproducedEncryptionContext)}`;
  return digest(
    RESOURCE_CACHING_CMM +
      SCOPE_DECRYPT +
      lp(partition) +
      `${r.suite.id}|` +
      lp(r.commitmentPolicy) +
      `${edks.length}|${edks.join('')}` +
      context(r.encryptionContext) +
      reproduced,
  );
}
