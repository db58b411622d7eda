import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  DefaultMaterialsManager,
  encrypt,
  encryptStream,
  getSuite,
  type DecryptionMaterialsRequest,
  type EncryptionMaterials,
  type EncryptionMaterialsRequest,
  type MaterialsManager,
} from '@envelope/core';
import { CachingMaterialsManager } from '../src/index.js';
import { CountingKeyring, decRequest, encRequest } from './helpers/counting-keyring.js';

const pt = Buffer.alloc(100, 1);

async function drain(s: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('never cached', () => {
  it('encrypts of unknown length go straight to the underlying manager', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    await cmm.getEncryptionMaterials(encRequest(10, { plaintextLength: undefined }));
    await cmm.getEncryptionMaterials(encRequest(10, { plaintextLength: undefined }));
    expect(k.encrypts).toBe(2);
    expect(cmm.cache.size).toBe(0);
    expect(cmm.metrics()).toMatchObject({ bypassed: 2, hits: 0, misses: 0, keyringCalls: 2 });
  });

  it('streams: without a bound each stream calls the keyring; with plaintextLengthBound they share', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    for (let i = 0; i < 2; i++) await drain(Readable.from([pt]).pipe(encryptStream({ materialsManager: cmm, suite: 0x0478 })));
    expect(k.encrypts).toBe(2);
    for (let i = 0; i < 3; i++)
      await drain(Readable.from([pt]).pipe(encryptStream({ materialsManager: cmm, suite: 0x0478, plaintextLengthBound: 1000 })));
    expect(k.encrypts).toBe(3);
  });

  it('negative or fractional lengths are not trusted', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    await cmm.getEncryptionMaterials(encRequest(-5));
    await cmm.getEncryptionMaterials(encRequest(1.5));
    expect(cmm.metrics().bypassed).toBe(2);
  });

  it('suites without a KDF (0x0014, 0x0046, 0x0078) are never cached, encrypt or decrypt', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const reqs: EncryptionMaterials[] = [];
    for (const id of [0x0014, 0x0046, 0x0078, 0x0078]) {
      reqs.push(
        await cmm.getEncryptionMaterials(encRequest(10, { suite: getSuite(id), commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })),
      );
    }
    expect(k.encrypts).toBe(4);
    const keys = new Set(reqs.map((m) => Buffer.from(m.getDataKey()).toString('hex')));
    expect(keys.size).toBe(4);
    await cmm.decryptMaterials(decRequest(k.encrypted[3]!, { commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }));
    await cmm.decryptMaterials(decRequest(k.encrypted[3]!, { commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }));
    expect(k.decrypts).toBe(2);
    expect(cmm.cache.size).toBe(0);
    for (let i = 0; i < 2; i++)
      await encrypt(pt, { materialsManager: cmm, suite: 0x0078, commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' });
    expect(k.encrypts).toBe(6);
  });

  it('a no-KDF suite picked by the underlying manager is not shared, not even by concurrent waiters', async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    const inner = new DefaultMaterialsManager(k);
    const picksNoKdf: MaterialsManager = {
      getEncryptionMaterials: (r: EncryptionMaterialsRequest) =>
        inner.getEncryptionMaterials({ ...r, suite: getSuite(0x0078), commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }),
      decryptMaterials: (r: DecryptionMaterialsRequest) => inner.decryptMaterials(r),
    };
    const cmm = new CachingMaterialsManager({ underlying: picksNoKdf, maxAgeMs: 60_000 });
    const all = await Promise.all(Array.from({ length: 5 }, () => cmm.getEncryptionMaterials(encRequest(10, { suite: undefined }))));
    expect(k.encrypts).toBe(5);
    expect(new Set(all.map((m) => Buffer.from(m.getDataKey()).toString('hex'))).size).toBe(5);
    expect(cmm.cache.size).toBe(0);
  });

  it('materials with warnings (a degraded encrypt) serve the callers waiting for them but are not kept', async () => {
    const k = new CountingKeyring();
    k.latencyTurns = 2;
    const inner = new DefaultMaterialsManager(k);
    const degraded: MaterialsManager = {
      getEncryptionMaterials: async (r) =>
        (await inner.getEncryptionMaterials(r)).addWarning({ source: 'test', code: 'DEGRADED_ENCRYPT', message: 'one region missing' }),
      decryptMaterials: (r) => inner.decryptMaterials(r),
    };
    const cmm = new CachingMaterialsManager({ underlying: degraded, maxAgeMs: 60_000 });
    const all = await Promise.all(Array.from({ length: 3 }, () => cmm.getEncryptionMaterials(encRequest(10))));
    expect(k.encrypts).toBe(1);
    expect(all.every((m) => m.warnings.length === 1)).toBe(true);
    expect(cmm.cache.size).toBe(0);
    expect(k.encrypted[0]!.zeroized).toBe(true);
    await cmm.getEncryptionMaterials(encRequest(10));
    expect(k.encrypts).toBe(2);
  });

  it('an encryption context too large to serialize: the underlying manager refuses it, nothing is cached', async () => {
    const k = new CountingKeyring();
    const cmm = new CachingMaterialsManager({ underlying: k, maxAgeMs: 60_000 });
    const big = { k: 'x'.repeat(70_000) };
    await expect(cmm.getEncryptionMaterials(encRequest(10, { encryptionContext: big }))).rejects.toThrow(/encryption context/);
    expect(cmm.cache.size).toBe(0);
  });
});
