/**
 * Cache entry identifiers (spec: framework/caching-cmm.md, Appendix A), in spirit: SHA-384 over
 * the resource id (caching CMM), the scope (encrypt/decrypt), the partition and the request. We
 * differ from the spec's formula on purpose:
 *
 * - every variable-length field is length-prefixed instead of NULL-separated, so a partition or
 *   context holding 0x00 bytes cannot be read as a different split of the same bytes;
 * - the commitment policy is included (without a suite it picks the default suite), and so are
 *   the required-encryption-context keys (they change the header) and, for decrypt, the
 *   caller's reproduced context (it changes the materials' context).
 *
 * Ids never leave the process, so interop with other SDKs' cache ids is not a goal.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  serializeEncryptionContext,
  type DecryptionMaterialsRequest,
  type EncryptedDataKey,
  type EncryptionContext,
  type EncryptionMaterialsRequest,
} from '@envelope/core';

const RESOURCE_CACHING_CMM = 0x01;
const SCOPE_ENCRYPT = 0x01;
const SCOPE_DECRYPT = 0x02;

const utf8 = new TextEncoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** Length-prefixed field. */
function field(h: Hash, bytes: Uint8Array | string): void {
  const b = typeof bytes === 'string' ? utf8.encode(bytes) : bytes;
  h.update(u32(b.byteLength));
  h.update(b);
}

function context(h: Hash, ec: EncryptionContext): void {
  field(h, serializeEncryptionContext(ec));
}

/**
 * An EDK as provider id, provider info and ciphertext, each length-prefixed (the header's
 * serialization, with 32-bit lengths so that no EDK can make this throw).
 */
function serializeEdk(e: EncryptedDataKey): Buffer {
  const id = utf8.encode(e.providerId);
  return Buffer.concat([u32(id.byteLength), id, u32(e.providerInfo.byteLength), e.providerInfo, u32(e.ciphertext.byteLength), e.ciphertext]);
}

/**
 * The cache id of an encryption-materials request in `partition`: partition, suite (or "none"
 * when the caller did not pick one), commitment policy, serialized encryption context and the
 * sorted required-context keys. Throws what `serializeEncryptionContext` throws (oversized
 * contexts); the manager then bypasses the cache.
 */
export function encryptCacheKey(partition: string, r: EncryptionMaterialsRequest): string {
  const h = createHash('sha384');
  h.update(Uint8Array.of(RESOURCE_CACHING_CMM, SCOPE_ENCRYPT));
  field(h, partition);
  // Spec: 0x00 "without algorithm suite", or 0x01 followed by the two-byte suite id.
  h.update(r.suite ? Uint8Array.of(0x01, r.suite.id >> 8, r.suite.id & 0xff) : Uint8Array.of(0x00));
  field(h, r.commitmentPolicy);
  context(h, r.encryptionContext);
  const required = [...(r.requiredEncryptionContextKeys ?? [])].sort();
  h.update(u32(required.length));
  for (const k of required) field(h, k);
  return h.digest('base64');
}

/**
 * The cache id of a decrypt-materials request in `partition`: partition, suite id, commitment
 * policy, the lexicographically sorted serialized EDKs, the header's encryption context and the
 * caller's reproduced context (or its absence).
 */
export function decryptCacheKey(partition: string, r: DecryptionMaterialsRequest): string {
  const h = createHash('sha384');
  h.update(Uint8Array.of(RESOURCE_CACHING_CMM, SCOPE_DECRYPT));
  field(h, partition);
  h.update(Uint8Array.of(r.suite.id >> 8, r.suite.id & 0xff));
  field(h, r.commitmentPolicy);
  const edks = r.encryptedDataKeys.map(serializeEdk).sort(Buffer.compare);
  h.update(u32(edks.length));
  for (const e of edks) field(h, e);
  context(h, r.encryptionContext);
  if (r.reproducedEncryptionContext === undefined) h.update(Uint8Array.of(0x00));
  else {
    h.update(Uint8Array.of(0x01));
    context(h, r.reproducedEncryptionContext);
  }
  return h.digest('base64');
}
