/**
 * The wrapped-key layout and key derivation
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#ciphertext)
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#branch-key-wrapping)
 * (spec: framework/aws-kms/aws-kms-hierarchical-keyring.md#branch-key-wrapping-and-unwrapping-aad),
 * checked against the AWS Encryption SDK's own SP 800-108 implementation and by tampering with
 * every field.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { kdfCounterMode } from '@aws-crypto/kdf-ctr-mode-node';
import fc from 'fast-check';
import { PROVIDER_ID, deriveWrappingKey, parseWrappedKey, unwrapDataKey, wrapDataKey } from '../src/index.js';
import { isUuid, uuidFromBytes, uuidToBytes } from '../src/uuid.js';

const branchKey = randomBytes(32);
const version = uuidToBytes('0f8fad5b-d9cb-469f-a165-70867728950e');
const ec = { tenant: 'acme', purpose: 'test' };

describe('derivation', () => {
  it('equals the AWS Encryption SDK’s KDF in counter mode (HMAC-SHA-256, label aws-kms-hierarchy, the salt as context)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (ikm, salt) => {
        const theirs = kdfCounterMode({
          digestAlgorithm: 'sha256',
          ikm: Buffer.from(ikm),
          nonce: Buffer.from(salt),
          purpose: Buffer.from(PROVIDER_ID, 'utf8'),
          expectedLength: 32,
        });
        expect(Buffer.from(deriveWrappingKey(ikm, salt)).equals(Buffer.from(theirs))).toBe(true);
      }),
      { seed: 19, numRuns: 50 },
    );
  });
});

describe('wrapped key layout', () => {
  it('is salt(16) ‖ IV(12) ‖ version(16) ‖ encrypted key ‖ tag(16), and unwraps', () => {
    for (const keyLength of [16, 24, 32]) {
      const dataKey = randomBytes(keyLength);
      const ct = wrapDataKey({ branchKey, branchKeyId: 'bk', version, dataKey, encryptionContext: ec });
      expect(ct.byteLength).toBe(16 + 12 + 16 + keyLength + 16);
      const w = parseWrappedKey(ct, keyLength)!;
      expect(Buffer.from(w.version).equals(Buffer.from(version))).toBe(true);
      expect(Buffer.from(w.encryptedKey).equals(dataKey)).toBe(false);
      const out = unwrapDataKey({ branchKey, branchKeyId: 'bk', wrapped: w, encryptionContext: ec })!;
      expect(Buffer.from(out).equals(dataKey)).toBe(true);
    }
  });

  it('fresh salt and IV per wrap', () => {
    const dataKey = randomBytes(32);
    const a = wrapDataKey({ branchKey, branchKeyId: 'bk', version, dataKey, encryptionContext: ec });
    const b = wrapDataKey({ branchKey, branchKeyId: 'bk', version, dataKey, encryptionContext: ec });
    expect(Buffer.from(a.subarray(0, 28)).equals(Buffer.from(b.subarray(0, 28)))).toBe(false);
  });

  it('a changed byte anywhere, another branch key id, version, context or branch key: no data key', () => {
    const dataKey = randomBytes(32);
    const ct = wrapDataKey({ branchKey, branchKeyId: 'bk', version, dataKey, encryptionContext: ec });
    for (let i = 0; i < ct.byteLength; i++) {
      const bad = Buffer.from(ct);
      bad[i]! ^= 0x01;
      expect(unwrapDataKey({ branchKey, branchKeyId: 'bk', wrapped: parseWrappedKey(bad, 32)!, encryptionContext: ec })).toBeUndefined();
    }
    const w = parseWrappedKey(ct, 32)!;
    expect(unwrapDataKey({ branchKey, branchKeyId: 'bk2', wrapped: w, encryptionContext: ec })).toBeUndefined();
    expect(unwrapDataKey({ branchKey, branchKeyId: 'bk', wrapped: w, encryptionContext: { ...ec, tenant: 'other' } })).toBeUndefined();
    expect(unwrapDataKey({ branchKey, branchKeyId: 'bk', wrapped: w, encryptionContext: {} })).toBeUndefined();
    expect(unwrapDataKey({ branchKey: randomBytes(32), branchKeyId: 'bk', wrapped: w, encryptionContext: ec })).toBeUndefined();
  });

  it('lengths other than the suite’s are refused before any slicing', () => {
    const ct = wrapDataKey({ branchKey, branchKeyId: 'bk', version, dataKey: randomBytes(32), encryptionContext: ec });
    expect(parseWrappedKey(ct, 16)).toBeUndefined();
    expect(parseWrappedKey(ct.subarray(0, ct.byteLength - 1), 32)).toBeUndefined();
    expect(parseWrappedKey(new Uint8Array(0), 32)).toBeUndefined();
  });

  it('a context serialized in the JS SDK’s legacy order (localeCompare) still unwraps', async () => {
    // Keys whose UTF-8 byte order and localeCompare order differ.
    const legacy = { a: '1', B: '2', é: '3' };
    const { serializeEncryptionContextInOrder } = await import('@envelope/core');
    const { createCipheriv } = await import('node:crypto');
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const dataKey = randomBytes(32);
    const key = deriveWrappingKey(branchKey, salt);
    const aad = Buffer.concat([
      Buffer.from(PROVIDER_ID),
      Buffer.from('bk'),
      version,
      serializeEncryptionContextInOrder(Object.entries(legacy).sort(([x], [y]) => x.localeCompare(y))),
    ]);
    const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
    const body = Buffer.concat([c.update(dataKey), c.final()]);
    const ct = Buffer.concat([salt, iv, version, body, c.getAuthTag()]);
    const out = unwrapDataKey({ branchKey, branchKeyId: 'bk', wrapped: parseWrappedKey(ct, 32)!, encryptionContext: legacy });
    expect(Buffer.from(out!).equals(dataKey)).toBe(true);
  });
});

describe('versions as bytes', () => {
  it('round-trips 16 bytes ↔ lower-case UUID; refuses other shapes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const s = uuidFromBytes(b);
        expect(isUuid(s)).toBe(true);
        expect(Buffer.from(uuidToBytes(s)).equals(Buffer.from(b))).toBe(true);
      }),
      { seed: 19 },
    );
    expect(() => uuidToBytes('0F8FAD5B-D9CB-469F-A165-70867728950E')).toThrow(RangeError);
    expect(() => uuidToBytes('not-a-uuid')).toThrow(RangeError);
    expect(() => uuidFromBytes(new Uint8Array(15))).toThrow(RangeError);
  });
});
