/**
 * Cache ids (in the spirit of spec framework/caching-cmm.md): a SHA-512 over the partition,
 * the operation, the suite, the commitment policy, the serialized encryption context and, for
 * decrypt, the sorted serialized EDKs and the reproduced context. Length-prefixed fields, so
 * no two different requests share an id.
 */
import { createHash } from 'node:crypto';
import { serializeEncryptionContext, type DecryptionMaterialsRequest, type EncryptedDataKey, type EncryptionMaterialsRequest } from '@envelope/core';

function field(h: ReturnType<typeof createHash>, b: Uint8Array | string): void {
  const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.byteLength);
  h.update(len).update(bytes);
}

function edkBytes(e: EncryptedDataKey): Buffer {
  const h = createHash('sha512');
  field(h, e.providerId);
  field(h, e.providerInfo);
  field(h, e.ciphertext);
  return h.digest();
}

export function encryptCacheKey(partition: string, r: EncryptionMaterialsRequest): string {
  const h = createHash('sha512');
  field(h, partition);
  field(h, 'encrypt');
  field(h, r.suite ? String(r.suite.id) : 'default');
  field(h, r.commitmentPolicy);
  field(h, serializeEncryptionContext(r.encryptionContext));
  field(h, JSON.stringify([...(r.requiredEncryptionContextKeys ?? [])].sort()));
  return h.digest('base64');
}

export function decryptCacheKey(partition: string, r: DecryptionMaterialsRequest): string {
  const h = createHash('sha512');
  field(h, partition);
  field(h, 'decrypt');
  field(h, String(r.suite.id));
  field(h, r.commitmentPolicy);
  field(h, serializeEncryptionContext(r.encryptionContext));
  const edks = r.encryptedDataKeys.map(edkBytes).sort(Buffer.compare);
  field(h, String(edks.length));
  for (const e of edks) field(h, e);
  field(h, r.reproducedEncryptionContext ? serializeEncryptionContext(r.reproducedEncryptionContext) : 'none');
  return h.digest('base64');
}
