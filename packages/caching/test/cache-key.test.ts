import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { getSuite, type CommitmentPolicy, type DecryptionMaterialsRequest, type EncryptionMaterialsRequest } from '@envelope/core';
import { decryptCacheKey, encryptCacheKey } from '../src/index.js';

const policy: CommitmentPolicy = 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT';
const ctx = fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 4 });
const edk = fc.record({
  providerId: fc.string({ maxLength: 6 }),
  providerInfo: fc.uint8Array({ maxLength: 6 }),
  ciphertext: fc.uint8Array({ maxLength: 6 }),
});

function enc(o: Partial<EncryptionMaterialsRequest> = {}): EncryptionMaterialsRequest {
  return { encryptionContext: {}, commitmentPolicy: policy, plaintextLength: 1, ...o };
}

function dec(o: Partial<DecryptionMaterialsRequest> = {}): DecryptionMaterialsRequest {
  return {
    suite: getSuite(0x0478),
    encryptionContext: {},
    encryptedDataKeys: [{ providerId: 'p', providerInfo: new Uint8Array([1]), ciphertext: new Uint8Array([2]) }],
    commitmentPolicy: policy,
    ...o,
  };
}

describe('cache ids', () => {
  it('equal requests get equal ids; the plaintext length and signal do not matter', () => {
    expect(encryptCacheKey('p', enc({ encryptionContext: { a: '1', b: '2' } }))).toBe(
      encryptCacheKey('p', enc({ encryptionContext: { b: '2', a: '1' }, plaintextLength: 99, signal: new AbortController().signal })),
    );
  });

  it('a different partition, context, suite, policy or required-key set never gets the same id', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), ctx, ctx, (p1, p2, c1, c2) => {
        const same = p1 === p2 && JSON.stringify(Object.entries(c1).sort()) === JSON.stringify(Object.entries(c2).sort());
        expect(encryptCacheKey(p1, enc({ encryptionContext: c1 })) === encryptCacheKey(p2, enc({ encryptionContext: c2 }))).toBe(same);
      }),
    );
    const ids = new Set([
      encryptCacheKey('p', enc()),
      encryptCacheKey('p', enc({ suite: getSuite(0x0478) })),
      encryptCacheKey('p', enc({ suite: getSuite(0x0578) })),
      encryptCacheKey('p', enc({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })),
      encryptCacheKey('p', enc({ encryptionContext: { a: '1' } })),
      encryptCacheKey('p', enc({ encryptionContext: { a: '1' }, requiredEncryptionContextKeys: ['a'] })),
      decryptCacheKey('p', dec()),
    ]);
    expect(ids.size).toBe(7);
  });

  it('fields are length-prefixed: moving bytes between partition and context changes the id', () => {
    expect(encryptCacheKey('a\u0000', enc({ encryptionContext: { b: '' } }))).not.toBe(
      encryptCacheKey('a', enc({ encryptionContext: { '\u0000b': '' } })),
    );
  });

  it('decrypt: EDK order does not matter; EDKs, context and reproduced context do', () => {
    fc.assert(
      fc.property(fc.array(edk, { minLength: 1, maxLength: 4 }), ctx, (edks, c) => {
        const a = decryptCacheKey('p', dec({ encryptedDataKeys: edks, encryptionContext: c }));
        expect(decryptCacheKey('p', dec({ encryptedDataKeys: [...edks].reverse(), encryptionContext: c }))).toBe(a);
        expect(decryptCacheKey('p', dec({ encryptedDataKeys: edks.slice(1), encryptionContext: c }))).not.toBe(a);
        expect(decryptCacheKey('p', dec({ encryptedDataKeys: edks, encryptionContext: { ...c, extra: 'x' } }))).not.toBe(a);
        expect(decryptCacheKey('p', dec({ encryptedDataKeys: edks, encryptionContext: c, reproducedEncryptionContext: {} }))).not.toBe(a);
        expect(decryptCacheKey('q', dec({ encryptedDataKeys: edks, encryptionContext: c }))).not.toBe(a);
      }),
    );
  });
});
